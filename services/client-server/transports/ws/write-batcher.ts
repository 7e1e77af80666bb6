import type { Duplex } from 'node:stream';

/**
 * Coalesces what each socket is sent within one event-loop turn into one
 * write: the first write of a turn corks the socket, one setImmediate uncorks
 * every corked socket (so at most one turn of delay, well under 1 ms when the
 * loop keeps up). Also counts deliveries locally and hands the count to
 * `onFlush` once per turn, keeping metric updates off the per-delivery path.
 * One per client-server app, shared by all its WebSocket connections.
 */
export class WriteBatcher {
  private corked: Duplex[] = [];
  private delivered = 0;
  private scheduled = false;

  constructor(private readonly onFlush: (delivered: number) => void) {}

  write(raw: Duplex, frame: Buffer): void {
    if (raw.writableCorked === 0) {
      raw.cork();
      this.corked.push(raw);
    }
    raw.write(frame);
    this.count();
  }

  /** Counts a delivery made without `write` (the `send` fallback). */
  count(): void {
    this.delivered++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const corked = this.corked;
    this.corked = [];
    for (const raw of corked) raw.uncork();
    const delivered = this.delivered;
    this.delivered = 0;
    if (delivered > 0) this.onFlush(delivered);
  };
}
