/**
 * The real servers the SDK tests run against, in one place: these imports
 * point into services/ and test/helpers/, and are the ones to repoint when
 * those move.
 */
export { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
export { startLocalStack, type LocalStack } from '../support/local-stack.js';
export { RetryingPublisher } from '../support/publisher.js';
export type { Stack } from '../support/stack.js';
