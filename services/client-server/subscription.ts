import type { EventIds } from '../protocol/event-id.js';
import type { OutboundEvent } from './outbound-event.js';

/** Where a subscription's events go: its connection (a WebSocket or an SSE stream). */
export interface Sink {
  /** Writes one event; returns false when the connection was closed (e.g. for falling behind). */
  send(event: OutboundEvent): boolean;
  /** The bus could not prove continuity for this channel: the client must resume with since. */
  gap(channel: string): void;
}

/** What a subscription gives back when it closes: its place in the hub. */
export interface SubscriptionOwner {
  leave(subscription: Subscription): void;
}

/**
 * One channel of one connection. Until `goLive` it buffers what the hub
 * hands it, so that events published while history is being read are
 * neither lost nor sent twice; afterwards it forwards in id order and drops
 * anything not newer than what it already sent. `close()` is its one end:
 * it leaves the hub once, whoever calls it and however often.
 */
export class Subscription {
  private lastSent: unknown;
  private buffer: OutboundEvent[] | null = [];
  private closed = false;

  constructor(
    readonly channel: string,
    readonly sink: Sink,
    private readonly eventIds: EventIds,
    private readonly owner: SubscriptionOwner,
  ) {
    this.lastSent = eventIds.zero;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the hub for every live event of the channel. */
  deliver(event: OutboundEvent): void {
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
  goLive(since: string | undefined, backlog: readonly OutboundEvent[]): void {
    if (since !== undefined) this.lastSent = this.eventIds.parse(since);
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const event of backlog) if (!this.forward(event)) return;
    for (const event of buffered) if (!this.forward(event)) return;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    this.owner.leave(this);
  }

  private forward(event: OutboundEvent): boolean {
    if (this.closed) return false;
    if (this.eventIds.compare(event.position, this.lastSent) <= 0) return true;
    this.lastSent = event.position;
    return this.sink.send(event);
  }
}
