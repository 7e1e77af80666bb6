import type { EventIds } from '../protocol/event-id.js';
import type { OutboundEvent } from './outbound-event.js';

/** A presence `join` or `leave` on its way to subscribers; `json` is the WebSocket message (and the SSE event's data), built once. */
export interface PresenceMessage {
  kind: 'join' | 'leave';
  user: string;
  json: string;
}

/** A presence subscriber as its channel's PresenceRoom sees it (a Subscription). */
export interface PresenceListener {
  /** The listener's own user: its changes are never sent to it (PROTOCOL.md v1.1). */
  readonly presenceUser?: string;
  deliverPresence(message: PresenceMessage): void;
}

/** Where a subscription's events go: its connection (a WebSocket or an SSE stream). */
export interface Sink {
  /** Writes one event; returns false when the connection was closed (e.g. for falling behind). */
  send(event: OutboundEvent): boolean;
  /** Writes a presence message (PROTOCOL.md v1.1); false when the connection was closed. */
  sendPresence(message: PresenceMessage): boolean;
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
 * anything not newer than what it already sent. Presence messages wait
 * in the same way, so that none is sent before the `subscribed` reply.
 * `close()` is its one end: it leaves the hub once, whoever calls it and
 * however often.
 */
export class Subscription implements PresenceListener {
  private lastSent: unknown;
  private buffer: OutboundEvent[] | null = [];
  private presenceBuffer: PresenceMessage[] = [];
  private closed = false;

  constructor(
    readonly channel: string,
    readonly sink: Sink,
    private readonly eventIds: EventIds,
    private readonly owner: SubscriptionOwner,
    /** The token's `sub`, when this subscription joined presence: the user whose own changes it is not sent. */
    readonly presenceUser?: string,
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

  /** Called by the channel's presence room for every change it should hear of. */
  deliverPresence(message: PresenceMessage): void {
    if (this.closed) return;
    if (this.buffer) this.presenceBuffer.push(message);
    else this.sink.sendPresence(message);
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
    const presence = this.presenceBuffer;
    this.presenceBuffer = [];
    for (const message of presence) if (this.closed || !this.sink.sendPresence(message)) return;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    this.presenceBuffer = [];
    this.owner.leave(this);
  }

  private forward(event: OutboundEvent): boolean {
    if (this.closed) return false;
    if (this.eventIds.compare(event.position, this.lastSent) <= 0) return true;
    this.lastSent = event.position;
    return this.sink.send(event);
  }
}
