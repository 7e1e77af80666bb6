/**
 * The real servers the SDK tests run against, in one place: these imports
 * point into services/ and test/helpers/, and are the ones to repoint when
 * those move.
 */
export { signSubscriberToken } from '../../services/common/auth/jwt.js';
export { startLocalStack, type LocalStack } from '../helpers/local-stack.js';
export { RetryingPublisher } from '../helpers/publisher.js';
export type { Stack } from '../helpers/stack.js';
