/**
 * The CLI's one door to the SDK (bundled into the CLI by cli/build.ts).
 * When the CLI becomes a package of its own, these imports become
 * `from '@eventrelay/client'`.
 */
import { WebSocket } from 'ws';
import { wsSocketFactory } from '../sdk/src/node.js';

export { CHANNEL_PATTERN, connect, describeNetworkError, socketUrl, type RelayErrorInfo, type StateChange } from '../sdk/src/node.js';

/**
 * Always `ws`, also on Node 22+ with its global WebSocket: only `ws` says
 * why a connection failed (refused, DNS, TLS, the HTTP status of a refused
 * upgrade and the server's message), which the CLI prints.
 */
export const socketFactory = wsSocketFactory(WebSocket as unknown as Parameters<typeof wsSocketFactory>[0]);
