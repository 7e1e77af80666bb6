/** Everything both entries (index.ts for browsers and bundlers, node.ts for Node) export besides `connect` and `connectSse`. */
export { EventRelayClient, type ClientEvents, type ConnectOptions } from './client.js';
export type { SubscribeOptions } from './subscriptions.js';
export { EventRelayStream, type StreamEvents, type StreamOptions } from './sse-client.js';
export { EventRelayError } from './errors.js';
export { CHANNEL_PATTERN } from './channel.js';
export { MAX_REF_LENGTH, type PublishOptions } from './pending-publishes.js';
export { DEFAULT_PING_INTERVAL_MS, DEFAULT_PONG_TIMEOUT_MS } from './heartbeat.js';
export { socketUrl, streamUrl } from './url.js';
export { backoffDelay, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from './backoff.js';
export { globalSocketFactory, type SocketCloseInfo, type SocketFactory, type SocketLike } from './transport.js';
export { eventSourceTransport } from './eventsource-transport.js';
export type { SseFailure, SseHandlers, SseRequest, SseTransport } from './sse-transport.js';
export { CloseCodes } from './types.js';
export type {
  ConnectionState,
  PresenceChange,
  PresenceMember,
  PresenceSnapshot,
  PublishedInfo,
  RelayErrorInfo,
  RelayEvent,
  StateChange,
  SubscribedInfo,
} from './types.js';
