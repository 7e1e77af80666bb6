import type { BusEvent } from '../common/bus/bus.js';
import { compareParsedIds, ZERO_ID, type ParsedEventId } from '../common/event-id.js';

/** Where a subscription's events go: a WebSocket or an SSE stream. */
export interface Sink {
  /** Writes one event; returns false when the sink was closed for falling behind. */
  send(event: BusEvent): boolean;
  /** The bus could not prove continuity for this channel: the client must resume with since. */
  gap(channel: string): void;
}

/**
 * One channel of one connection. Until `goLive` it buffers what the hub
 * hands it, so that events published while history is being read are
 * neither lost nor sent twice; afterwards it forwards in id order and drops
 * anything not newer than what it already sent.
 */
export class Subscription {
  private lastSent: ParsedEventId = ZERO_ID;
  private buffer: BusEvent[] | null = [];
  closed = false;

  constructor(
    readonly channel: string,
    readonly sink: Sink,
  ) {}

  /** Called by the hub for every live event of the channel. */
  deliver(event: BusEvent): void {
    if (this.closed) return;
    if (this.buffer) {
      this.buffer.push(event);
      return;
    }
    this.forward(event);
  }

  /**
   * Sends the history read after `since`, then what was buffered meanwhile,
   * skipping every id at or below the last one sent: the seam has no gap
   * and no duplicate.
   */
  goLive(since: ParsedEventId | undefined, backlog: readonly BusEvent[]): void {
    if (since) this.lastSent = since;
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const event of backlog) if (!this.forward(event)) return;
    for (const event of buffered) if (!this.forward(event)) return;
  }

  private forward(event: BusEvent): boolean {
    if (this.closed) return false;
    if (compareParsedIds(event.position, this.lastSent) <= 0) return true;
    this.lastSent = event.position;
    return this.sink.send(event);
  }
}
