/**
 * @eventrelay/client for browsers, bundlers and runtimes with a global
 * WebSocket and EventSource (package.json `exports`: browser, import,
 * default). Built to dist/eventrelay.js, which the client-server also serves
 * at /sdk/eventrelay.js. Node resolves node.ts instead.
 */
import { EventRelayClient, type ConnectOptions } from './client.js';
import { eventSourceTransport } from './eventsource-transport.js';
import { EventRelayStream, type StreamOptions } from './sse-client.js';

export * from './api.js';

/**
 * Opens a WebSocket connection to a client-server (`http(s)://host[:port][/prefix]`
 * or a `ws(s)://.../v1/ws` URL) that reconnects with backoff and resumes
 * every subscription after the last event it delivered.
 */
export function connect(url: string, options: ConnectOptions = {}): EventRelayClient {
  return new EventRelayClient(url, options);
}

/** Opens a Server-Sent Events stream of one or more channels (EventSource), resumed after its cursor. */
export function connectSse(url: string, options: StreamOptions): EventRelayStream {
  return new EventRelayStream(url, { ...options, transport: options.transport ?? eventSourceTransport });
}
