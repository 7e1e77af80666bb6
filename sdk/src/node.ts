/**
 * @eventrelay/client for Node (package.json `exports` condition `node`):
 * the WebSocket is the global one where Node has it (22+), else the `ws`
 * package (an optional peer dependency: `npm install ws` on Node 20); SSE
 * runs over fetch streaming. Built to dist/node.js with `ws` left external.
 */
import { EventRelayClient, type ConnectOptions } from './client.js';
import { EventRelayError } from './errors.js';
import { fetchSseTransport } from './fetch-transport.js';
import { EventRelayStream, type StreamOptions } from './sse-client.js';
import type { SocketFactory, SocketLike } from './transport.js';
import { wsSocketFactory, type WsWebSocketClass } from './ws-transport.js';

export * from './api.js';
export { describeNetworkError } from './network-error.js';
export { fetchSseTransport, DEFAULT_SSE_IDLE_TIMEOUT_MS, type FetchTransportOptions } from './fetch-transport.js';
export { wsSocketFactory, HANDSHAKE_TIMEOUT_MS, type WsWebSocketClass, type WsWebSocketLike } from './ws-transport.js';

let wsFactory: Promise<SocketFactory> | undefined;

/** Loads `ws` once, on the first connection that needs it. */
function loadWs(): Promise<SocketFactory> {
  wsFactory ??= import('ws').then(
    (mod: { WebSocket?: unknown; default?: unknown }) => wsSocketFactory((mod.WebSocket ?? mod.default) as WsWebSocketClass),
    () => {
      wsFactory = undefined;
      throw new EventRelayError('no_websocket', 'This Node has no global WebSocket (Node 20): npm install ws, an optional peer dependency of @eventrelay/client, or use Node 22+.');
    },
  );
  return wsFactory;
}

/** The global WebSocket where Node has one (22+), else `ws`. */
export const nodeSocketFactory: SocketFactory = async (url) => {
  const Global = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Global) return new Global(url);
  return (await loadWs())(url);
};

/**
 * Opens a WebSocket connection to a client-server (`http(s)://host[:port][/prefix]`
 * or a `ws(s)://.../v1/ws` URL) that reconnects with backoff and resumes
 * every subscription after the last event it delivered.
 */
export function connect(url: string, options: ConnectOptions = {}): EventRelayClient {
  return new EventRelayClient(url, { ...options, socketFactory: options.socketFactory ?? nodeSocketFactory });
}

/** Opens a Server-Sent Events stream of one or more channels (fetch streaming), resumed after its cursor. */
export function connectSse(url: string, options: StreamOptions): EventRelayStream {
  return new EventRelayStream(url, { ...options, transport: options.transport ?? fetchSseTransport() });
}
