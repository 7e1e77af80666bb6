import { describeNetworkError } from './network-error.js';
import type { SocketCloseInfo, SocketFactory, SocketLike } from './transport.js';

/** A connect (TCP, TLS and upgrade) that takes longer than this counts as failed; `ws` has no limit of its own. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Enough for any PROTOCOL.md error body; a proxy's error page is cut. */
const MAX_ERROR_BODY_BYTES = 4096;
/** How long to wait for a refusal's body before reporting the refusal without it. */
const ERROR_BODY_WAIT_MS = 2000;
const utf8 = new TextDecoder();

interface IncomingLike {
  statusCode?: number;
  socket?: { destroy(): void } | null;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'error' | 'close', listener: () => void): unknown;
}

/** The part of the `ws` package's WebSocket the adapter uses (so that the SDK's types do not need `@types/ws`). */
export interface WsWebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'open', listener: () => void): unknown;
  // Buffers at run time; typed as Uint8Array so that the SDK's types need no @types/node.
  on(event: 'message', listener: (data: Uint8Array, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Uint8Array) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'unexpected-response', listener: (req: { destroy(): void }, res: IncomingLike) => void): unknown;
}

export type WsWebSocketClass = new (url: string, options?: { handshakeTimeout?: number }) => WsWebSocketLike;

/**
 * A SocketFactory over the `ws` package. Unlike a browser's WebSocket it
 * can tell why a connection failed, and says so in the close `reason`:
 * "connection refused (ECONNREFUSED)", a DNS or TLS error, or the HTTP
 * status and the server's error message when the upgrade was refused.
 * 401 and 403 map onto the close codes the server uses after an upgrade
 * (4001, 1008).
 */
export function wsSocketFactory(WebSocketClass: WsWebSocketClass): SocketFactory {
  return (url) => new WsSocket(new WebSocketClass(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS }));
}

class WsSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: SocketCloseInfo) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private cause?: string;
  private finished = false;

  constructor(private readonly ws: WsWebSocketLike) {
    ws.on('open', () => this.onopen?.({}));
    ws.on('message', (data, isBinary) => this.onmessage?.({ data: isBinary ? data : utf8.decode(data) }));
    ws.on('error', (err) => {
      this.cause ??= describeNetworkError(err);
      this.onerror?.(err);
    });
    ws.on('close', (code, reason) => this.finish({ code, reason: utf8.decode(reason) || this.cause || '' }));
    ws.on('unexpected-response', (req, res) => this.refused(req, res));
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: string): void {
    if (this.ws.readyState === 1) this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    // An upgrade still in progress is aborted.
    if (this.ws.readyState === 0) this.ws.terminate();
    else this.ws.close(code, reason);
  }

  private refused(req: { destroy(): void }, res: IncomingLike): void {
    const status = res.statusCode ?? 0;
    const connection = res.socket;
    const chunks: Uint8Array[] = [];
    let size = 0;
    const report = () => {
      clearTimeout(timer);
      // The socket itself: once the response is complete it is no longer the request's, and a keep-alive server would hold it open.
      req.destroy();
      connection?.destroy();
      const text = utf8.decode(Buffer.concat(chunks));
      const info: SocketCloseInfo = { code: status === 401 ? 4001 : status === 403 ? 1008 : 1006, reason: `HTTP ${status} at upgrade`, status };
      try {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body.error?.code === 'string') info.errorCode = body.error.code;
        if (typeof body.error?.message === 'string') info.reason = body.error.message;
      } catch {
        // A proxy's error page: its first words, on one line.
        const words = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
        if (words) info.reason = `HTTP ${status} at upgrade: ${words.slice(0, 120)}`;
      }
      this.finish(info);
    };
    const timer = setTimeout(report, ERROR_BODY_WAIT_MS);
    res.on('data', (chunk) => {
      if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', report);
    res.on('error', report);
  }

  /** ws may report an aborted handshake as an error and a close too: report the first cause, once. */
  private finish(info: SocketCloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.onclose?.(info);
  }
}
