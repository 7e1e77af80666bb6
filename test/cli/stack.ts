/**
 * The real servers the CLI tests run against, and the server's own token
 * check, in one place: these imports point into services/ and
 * test/helpers/, and are the ones to repoint when those move. The CLI
 * itself imports nothing from services/.
 */
export { signSubscriberToken, verifySubscriberToken } from '../../services/client-server/auth/jwt.js';
export { startLocalStack, type LocalStack } from '../support/local-stack.js';
export type { Stack } from '../support/stack.js';
export { TestSocket } from '../support/ws-client.js';
