import type { Duplex } from 'node:stream';
import type { Config } from '../../../runtime/config/schema.js';

/**
 * A socket's side of the batching: where its frames go and what is held for
 * it. WsConnection implements it with three fields, so that holding costs
 * nothing per connection until a frame is actually held.
 */
export interface WriteOutlet {
  /** The TCP socket, while it may still take data frames; undefined once it is closing or closed (held frames are dropped). */
  outletSocket(): Duplex | undefined;
  /** Frames waiting for this socket, oldest first; null when none. */
  held: Buffer[] | null;
  /** Their total length. */
  heldBytes: number;
}

/**
 * With WRITE_DELAY_MS=0, a turn's held sockets are written once this many
 * are waiting, without waiting for the turn's end: a broadcast to 19,000
 * sockets then reaches its first receivers after a few hundred cheap holds
 * instead of after the whole loop, while a socket given several events in
 * one turn still gets them in one write (unless its batch left meanwhile).
 */
export const TURN_FLUSH_SOCKETS = 256;

const monotonicNow = (): number => performance.now();

export type WriteBatcherConfig = Pick<Config, 'writeDelayMs' | 'writeMaxBytes'>;

/**
 * Gathers each WebSocket's frames into fewer writes, one batcher per
 * client-server app for all its sockets. Frames of one socket always leave
 * in the order given, and before anything else that socket is sent (the
 * connection calls `flush` before its own replies and its close frame).
 *
 * - WRITE_DELAY_MS=0: a socket's frames of one event-loop turn are held and
 *   leave in one write when the turn ends (setImmediate), or earlier once
 *   TURN_FLUSH_SOCKETS sockets are waiting (a broadcast's first receivers
 *   do not wait for the loop over every other socket).
 * - WRITE_DELAY_MS>0: every frame is held; one timer flushes every held
 *   socket at most that long after the oldest held frame arrived, so no frame
 *   waits longer than the delay (a flush that is early only gathers less).
 *
 * Either way a socket's held bytes never exceed WRITE_MAX_BYTES: the frame
 * that would pass it first flushes what is held. Held frames are not in the
 * socket yet, so they never count towards its unsent bytes: only bytes the
 * peer has not read make a socket look slow (MAX_BUFFERED_BYTES).
 *
 * Also counts deliveries locally and hands the count to `onFlush` once per
 * turn, keeping metric updates off the per-delivery path.
 */
export class WriteBatcher {
  private readonly delayMs: number;
  private readonly maxWriteBytes: number;
  /** Outlets that held frames when they were added (a flushed one may be listed more than once; flushing it again is a no-op). */
  private pending: WriteOutlet[] = [];
  private delivered = 0;
  private turnScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** `now()` when the window the timer closes opened: a timer late behind a busy loop is caught up on the next write. */
  private windowOpenedAt = 0;

  constructor(
    config: WriteBatcherConfig,
    private readonly onFlush: (delivered: number) => void,
    /** Monotonic ms; injected for tests. */
    private readonly now: () => number = monotonicNow,
  ) {
    this.delayMs = config.writeDelayMs;
    this.maxWriteBytes = config.writeMaxBytes;
  }

  /** Writes (or holds) one frame for `outlet`, whose socket is open. */
  write(outlet: WriteOutlet, raw: Duplex, frame: Buffer): void {
    this.count();
    if (this.delayMs === 0) {
      this.hold(outlet, raw, frame);
      if (this.pending.length >= TURN_FLUSH_SOCKETS) this.flushAll();
      return;
    }
    // A timer held back by a busy loop must not hold frames past the delay: the late window closes here.
    if (this.timer !== undefined && this.now() - this.windowOpenedAt >= this.delayMs) this.flushAll();
    if (this.timer === undefined) {
      this.windowOpenedAt = this.now();
      this.timer = setTimeout(this.flushAll, this.delayMs);
    }
    this.hold(outlet, raw, frame);
  }

  /** Sends what is held for `outlet` now: before a reply or a close frame of the same socket, which must not overtake it. */
  flush(outlet: WriteOutlet): void {
    const held = outlet.held;
    if (held === null) return;
    const bytes = outlet.heldBytes;
    outlet.held = null;
    outlet.heldBytes = 0;
    const raw = outlet.outletSocket();
    if (raw) raw.write(held.length === 1 ? held[0]! : Buffer.concat(held, bytes));
  }

  /** Forgets what is held for a socket that closed. */
  discard(outlet: WriteOutlet): void {
    outlet.held = null;
    outlet.heldBytes = 0;
  }

  /** Counts a delivery made without `write` (the `send` fallback). */
  count(): void {
    this.delivered++;
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(this.endTurn);
    }
  }

  private hold(outlet: WriteOutlet, raw: Duplex, frame: Buffer): void {
    if (outlet.held !== null && outlet.heldBytes + frame.length > this.maxWriteBytes) this.flush(outlet);
    if (outlet.held === null) {
      if (frame.length >= this.maxWriteBytes) {
        // Alone over the cap: nothing to gather it with.
        raw.write(frame);
        return;
      }
      outlet.held = [frame];
      this.pending.push(outlet);
    } else {
      outlet.held.push(frame);
    }
    outlet.heldBytes += frame.length;
  }

  private readonly flushAll = (): void => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = [];
    for (const outlet of pending) this.flush(outlet);
  };

  private readonly endTurn = (): void => {
    this.turnScheduled = false;
    if (this.delayMs === 0) this.flushAll();
    const delivered = this.delivered;
    this.delivered = 0;
    if (delivered > 0) this.onFlush(delivered);
  };
}
