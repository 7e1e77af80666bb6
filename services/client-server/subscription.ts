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
  /** While replaying: resolves when the connection has room for more; undefined when it has room now. */
  congested?(): Promise<void> | undefined;
  /** Live events piled up past MAX_REPLAY_QUEUED_EVENTS while a replay waited: cut the connection as a slow consumer. */
  fallBehind?(): void;
}

/**
 * Live events a subscription queues while its replay waits for the client
 * to drain; more means the client reads slower than the channel publishes,
 * and waiting longer only grows the queue. Pointers to shared events: 10,000
 * are 80 KB per subscription at the most.
 */
export const MAX_REPLAY_QUEUED_EVENTS = 10_000;

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
  private presenceBuffer: PresenceMessage[] | null = null;
  /** Whether a replay is waiting for the connection to drain. */
  private replaying = false;
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
      if (this.buffer.length > MAX_REPLAY_QUEUED_EVENTS && this.replaying) this.sink.fallBehind?.();
      return;
    }
    this.forward(event);
  }

  /** Called by the channel's presence room for every change it should hear of. */
  deliverPresence(message: PresenceMessage): void {
    if (this.closed) return;
    if (this.buffer) (this.presenceBuffer ??= []).push(message);
    else this.sink.sendPresence(message);
  }

  /**
   * Sends the history read after `since`, then what was buffered meanwhile,
   * skipping every id at or below the last one sent: the seam has no gap
   * and no duplicate. Paced by the connection: when it holds much unsent
   * data the replay waits for it to drain (live events keep queueing
   * meanwhile), so a backlog larger than MAX_BUFFERED_BYTES reaches a
   * client that reads it instead of getting it cut.
   */
  goLive(since: string | undefined, backlog: readonly OutboundEvent[]): void {
    if (since !== undefined) this.lastSent = this.eventIds.parse(since);
    this.replay(backlog, 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    this.presenceBuffer = null;
    this.owner.leave(this);
  }

  private replay(events: readonly OutboundEvent[], from: number): void {
    this.replaying = false;
    let batch = events;
    for (let i = from; ; i++) {
      if (this.closed) return;
      if (i === batch.length) {
        // What arrived live meanwhile, in a fresh queue so that more can arrive while it is sent.
        const queued = this.buffer ?? [];
        if (queued.length === 0) break;
        this.buffer = [];
        batch = queued;
        i = -1;
        continue;
      }
      if (!this.forward(batch[i]!)) return;
      const wait = this.sink.congested?.();
      if (wait) {
        this.replaying = true;
        const rest = batch;
        const next = i + 1;
        void wait.then(() => this.replay(rest, next));
        return;
      }
    }
    this.buffer = null;
    const presence = this.presenceBuffer ?? [];
    this.presenceBuffer = null;
    for (const message of presence) if (this.closed || !this.sink.sendPresence(message)) return;
  }

  private forward(event: OutboundEvent): boolean {
    if (this.closed) return false;
    if (this.eventIds.compare(event.position, this.lastSent) <= 0) return true;
    this.lastSent = event.position;
    return this.sink.send(event);
  }
}
