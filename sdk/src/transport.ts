import { EventRelayError } from './errors.js';

/** How a socket ended; `status`, `errorCode` and a descriptive `reason` come from transports that can see them (the `ws` one in Node). */
export interface SocketCloseInfo {
  code: number;
  reason: string;
  /** The HTTP status when the server refused the upgrade. */
  status?: number;
  /** The PROTOCOL.md `error.code` of the refusal's body. */
  errorCode?: string;
}

/**
 * The few WebSocket features the client needs: the WHATWG `WebSocket`
 * (browsers, Node 22+) has them, and `wsSocketFactory` adapts the `ws` package.
 */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: SocketCloseInfo) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike | Promise<SocketLike>;

export const OPEN = 1;

/** `new WebSocket(url)` with the runtime's own WebSocket (browsers, Node 22+, Deno, Bun). */
export const globalSocketFactory: SocketFactory = (url) => {
  const Global = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (!Global) {
    throw new EventRelayError('no_websocket', 'This runtime has no global WebSocket: in Node 20 import the package from Node (it loads `ws`), or pass socketFactory.');
  }
  return new Global(url);
};
