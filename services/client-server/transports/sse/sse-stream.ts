import type { ServerResponse } from 'node:http';
import { CloseCode } from '../../../protocol/close-codes.js';
import { disconnectedMessage } from '../../../protocol/client-messages.js';
import type { Connection, ConnectionRegistry } from '../../connections.js';
import type { OutboundEvent } from '../../outbound-event.js';
import type { SessionSocket } from '../../session.js';
import type { PresenceMessage } from '../../subscription.js';
import { framePayload, wsFrameOf } from '../ws/ws-frame.js';
import { drainRetryMs } from './drain-retry.js';
import type { StreamCursor } from './stream-cursor.js';

const ID_PREFIX = Buffer.from('id: ');
const DATA_PREFIX = Buffer.from('\ndata: ');
const EVENT_END = Buffer.from('\n\n');
const PING = ': ping\n\n';

/**
 * One SSE response: the transport half of a Session (see sse-route.ts).
 * With a cursor (a multi-channel stream, `useCursor`) each event's `id:` is
 * the stream's cursor after it instead of the event's own id.
 */
export class SseStream implements SessionSocket {
  readonly transport = 'sse' as const;
  readonly closed: Promise<void>;
  private opened = false;
  /** The code of an end asked for before the headers went out (e.g. a disconnect during the subscribe). */
  private endBeforeOpen: number | undefined;

  private cursor: StreamCursor | undefined;

  constructor(private readonly res: ServerResponse) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()));
  }

  /** Whether the 200 went out: from then on the session's close line is this request's log line. */
  get established(): boolean {
    return this.opened;
  }

  /** Whether the client already went away. */
  get gone(): boolean {
    return this.res.destroyed;
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }

  /** Sends the 200 headers; then ends at once if the session ended before. Returns whether the stream is open. */
  open(headers: Record<string, string>): boolean {
    this.res.writeHead(200, headers);
    this.opened = true;
    if (this.endBeforeOpen === undefined) return true;
    this.end(this.endBeforeOpen);
    return false;
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  drained(): Promise<void> {
    const { res } = this;
    if (res.writableLength === 0 || res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  writeEvent(event: OutboundEvent): void {
    const { cursor } = this;
    if (cursor) {
      // Per stream, since the cursor is; the data is still the one payload shared by every subscriber.
      cursor.advance(event.channel, event.id);
      this.res.write(Buffer.concat([ID_PREFIX, Buffer.from(cursor.encode(), 'latin1'), DATA_PREFIX, framePayload(wsFrameOf(event)), EVENT_END]));
      return;
    }
    // Built once per event, however many SSE subscribers the channel has; its data is
    // the same JSON as the WebSocket message (the frame's payload, not a copy of it).
    event.wire.sse ??= Buffer.concat([ID_PREFIX, Buffer.from(event.id, 'latin1'), DATA_PREFIX, framePayload(wsFrameOf(event)), EVENT_END]);
    this.res.write(event.wire.sse);
  }

  /** PROTOCOL.md v1.1: named events `join` / `leave`, without `id:` (they move no cursor). */
  writePresence(message: PresenceMessage): void {
    this.res.write(`event: ${message.kind}\ndata: ${message.json}\n\n`);
  }

  /** The `subscribed` event of `channel`; `id`: the stream's cursor, so that a reconnect before any event resumes from here. */
  writeSubscribed(reply: string, id?: string): void {
    this.res.write(id === undefined ? `event: subscribed\ndata: ${reply}\n\n` : `event: subscribed\nid: ${id}\ndata: ${reply}\n\n`);
  }

  /** Makes this a multi-channel stream: from now on each event's `id:` is the cursor. Returns its text as it starts. */
  useCursor(cursor: StreamCursor): string {
    this.cursor = cursor;
    return cursor.encode();
  }

  /**
   * SSE has no close codes: the stream ends, and the browser's EventSource
   * reconnects with Last-Event-ID. An operator disconnect (4003) says so
   * first, since that client must not reconnect.
   */
  end(code = 0): void {
    if (!this.opened) {
      this.endBeforeOpen = code;
      return;
    }
    if (this.res.writableEnded) return;
    if (code === CloseCode.disconnected) this.res.write(`event: disconnected\ndata: ${disconnectedMessage(code)}\n\n`);
    this.res.end();
  }

  heartbeat(): void {
    if (!this.res.writableEnded) this.res.write(PING);
  }

  /** Sets the browser's reconnection delay (`retry:`), e.g. before a drain ends the stream. */
  hintRetry(ms: number): void {
    if (this.opened && !this.res.writableEnded) this.res.write(`retry: ${ms}\n\n`);
  }
}

/** The drain's and heartbeat's view of an SSE session; `close` ends it from our side. The drain first tells the browser when to come back (drain-retry.ts). */
export function sseConnection(stream: SseStream, close: () => void): Connection {
  const connection: Connection = {
    heartbeat: () => stream.heartbeat(),
    goAway() {
      stream.hintRetry(drainRetryMs());
      close();
    },
    track: (registry: ConnectionRegistry) => void stream.closed.then(() => registry.closed(connection)),
  };
  return connection;
}
