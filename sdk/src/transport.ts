/**
 * The few WebSocket features the client needs, over the browser's global
 * `WebSocket` or, in Node 20 (which has none), the `ws` package loaded on
 * demand, so that the SDK has no dependency of its own.
 */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike | Promise<SocketLike>;

export const OPEN = 1;

// Held in a variable so that browser bundlers leave the import alone.
const WS_MODULE = 'ws';

/** `new WebSocket(url)` with whatever implementation this runtime has. */
export const defaultSocketFactory: SocketFactory = async (url) => {
  const Global = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Global) return new Global(url);
  const mod = (await import(/* @vite-ignore */ WS_MODULE)) as { WebSocket?: unknown; default?: unknown };
  const Ws = (mod.WebSocket ?? mod.default) as new (url: string) => SocketLike & {
    on(event: 'unexpected-response', listener: (req: unknown, res: { statusCode?: number }) => void): void;
  };
  const socket = new Ws(url);
  // `ws` can tell an HTTP refusal of the upgrade apart from a network error;
  // map it onto the close code the server would have used after the upgrade.
  socket.on('unexpected-response', (_req, res) => {
    const status = res.statusCode ?? 0;
    const code = status === 401 ? 4001 : status === 403 ? 1008 : 1006;
    const onclose = socket.onclose;
    // ws reports the aborted handshake as an error and a close: swallow both, report ours once.
    socket.onclose = () => {};
    socket.onerror = () => {};
    socket.close();
    onclose?.({ code, reason: `HTTP ${status} at upgrade` });
  });
  return socket;
};
