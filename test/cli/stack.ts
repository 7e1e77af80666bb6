/**
 * The real servers the CLI tests run against, and the server's own token
 * check, in one place: these imports point into services/ and
 * test/helpers/, and are the ones to repoint when those move. The CLI
 * itself imports nothing from services/.
 */
export { signSubscriberToken, verifySubscriberToken } from '../../services/common/auth/jwt.js';
export { startLocalStack, type LocalStack } from '../helpers/local-stack.js';
export type { Stack } from '../helpers/stack.js';
