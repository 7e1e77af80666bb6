import { EventRelayClient, type ConnectOptions } from './client.js';

export { EventRelayClient, EventRelayError, socketUrl, DEFAULT_PING_INTERVAL_MS, DEFAULT_PONG_TIMEOUT_MS } from './client.js';
export type { ConnectOptions, SubscribeOptions, ClientEvents } from './client.js';
export { backoffDelay, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from './backoff.js';
export type { SocketFactory, SocketLike } from './transport.js';
export { CloseCodes } from './types.js';
export type { ConnectionState, RelayErrorInfo, RelayEvent, StateChange, SubscribedInfo } from './types.js';

/**
 * Opens a connection to a client-server (`http://host:8081` or a
 * `ws(s)://.../v1/ws` URL) that reconnects with backoff and resumes every
 * subscription after the last event it delivered.
 */
export function connect(url: string, options: ConnectOptions = {}): EventRelayClient {
  return new EventRelayClient(url, options);
}
