import type { ServerResponse } from 'node:http';
import type { Connection } from '../../connections.js';
import type { OutboundEvent } from '../../outbound-event.js';
import type { SessionSocket } from '../../session.js';
import { framePayload, wsFrameOf } from '../ws/ws-frame.js';

const ID_PREFIX = Buffer.from('id: ');
const DATA_PREFIX = Buffer.from('\ndata: ');
const EVENT_END = Buffer.from('\n\n');
const PING = ': ping\n\n';

/** One SSE response: the transport half of a Session (see sse-route.ts). */
export class SseStream implements SessionSocket {
  readonly transport = 'sse' as const;
  readonly closed: Promise<void>;

  constructor(private readonly res: ServerResponse) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()));
  }

  /** Whether the client already went away. */
  get gone(): boolean {
    return this.res.destroyed;
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  writeEvent(event: OutboundEvent): void {
    // Built once per event, however many SSE subscribers the channel has; its data is
    // the same JSON as the WebSocket message (the frame's payload, not a copy of it).
    event.wire.sse ??= Buffer.concat([ID_PREFIX, Buffer.from(event.id, 'latin1'), DATA_PREFIX, framePayload(wsFrameOf(event)), EVENT_END]);
    this.res.write(event.wire.sse);
  }

  /** SSE has no close codes: the stream ends, and the browser's EventSource reconnects with Last-Event-ID. */
  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  heartbeat(): void {
    if (!this.res.writableEnded) this.res.write(PING);
  }
}

/** The drain's and heartbeat's view of an SSE session. */
export function sseConnection(stream: SseStream, goAway: () => void): Connection {
  return { closed: stream.closed, heartbeat: () => stream.heartbeat(), goAway };
}
