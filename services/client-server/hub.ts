import type { Logger } from 'pino';
import type { Bus, BusEvent, BusHandler } from '../engine/bus.js';
import type { Channels } from '../engine/channels.js';
import type { Presence, PresenceChange, PresenceMember } from '../engine/presence.js';
import type { ClientMetrics } from './client-metrics.js';
import { OutboundEvent } from './outbound-event.js';
import { PresenceRoom } from './presence-room.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';

interface ChannelEntry {
  subscribers: Set<Subscription>;
  /** Resolves once the channel is occupied and the bus subscription is live; shared by concurrent joins. */
  ready: Promise<void>;
  /** The channel's presence view while it has presence subscribers. */
  room?: PresenceRoom;
  /** Presence leaves still under way: the last subscriber's vacate waits for them (presence.leave comes before channel.vacated). */
  leaves: Set<Promise<void>>;
}

/** A subscription's presence membership: its connection key, and whether the join went through. */
interface Membership {
  connection: string;
  joined: Promise<boolean>;
}

/** Hears the presence transitions of every channel this hub holds (the Pusher endpoint's presence rooms). */
export interface PresenceObserver {
  onPresence(channel: string, change: PresenceChange): void;
  /** The bus resumed the channel after an interruption: transitions of the meantime may be missing. */
  onResume(channel: string): void;
}

export interface HubDeps {
  bus: Pick<Bus, 'subscribe' | 'unsubscribe'>;
  presence: Presence;
  channels: Channels;
  logger: Logger;
  metrics: ClientMetrics;
  now?: () => number;
}

/**
 * Counts this process's subscribers per channel and touches the broker only
 * on the first join and the last leave (centrifuge's node.go does the same):
 * occupancy, then the bus subscription, on the first; the bus
 * unsubscribe and the vacate on the last. A channel with 10,000 local
 * subscribers costs one Redis subscription, whichever protocol (native or Pusher) they speak, and its count is reported on
 * every change (Channels.report batches it).
 */
export class Hub implements BusHandler, SubscriptionOwner {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Last-leave work (presence leaves, vacate, bus unsubscribe) still under way, per channel. */
  private readonly leaving = new Map<string, Promise<void>>();
  private readonly memberships = new Map<Subscription, Membership>();
  /** Other protocols' presence views (the Pusher endpoint), fed the same transitions as the native rooms. */
  private readonly observers = new Set<PresenceObserver>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private connections = 0;

  constructor(private readonly deps: HubDeps) {
    this.logger = deps.logger.child({ component: 'hub' });
    this.now = deps.now ?? Date.now;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** `observer` hears the presence transitions of the channels held here from now on. */
  observePresence(observer: PresenceObserver): void {
    this.observers.add(observer);
  }

  /** A connection key unique in this process (presence members are kept per connection). */
  connectionId(): string {
    return (++this.connections).toString(36);
  }

  /** Resolves when the subscription receives every event published from now on. */
  async join(subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    let entry = this.channels.get(channel);
    if (!entry) {
      const created: ChannelEntry = { subscribers: new Set(), ready: Promise.resolve(), leaves: new Set() };
      // A leave of the same channel may still be vacating and unsubscribing (e.g. a client
      // sent unsubscribe and subscribe in one breath): the broker must see them in that order.
      const previous = this.leaving.get(channel) ?? Promise.resolve();
      created.ready = previous
        .then(() => this.occupyAndSubscribe(channel))
        .catch((err: unknown) => {
          // Undo, so that the next join tries again instead of waiting on a dead promise.
          if (this.channels.get(channel) === created) this.channels.delete(channel);
          throw err;
        });
      this.channels.set(channel, created);
      entry = created;
    }
    entry.subscribers.add(subscription);
    try {
      await entry.ready;
    } catch (err) {
      entry.subscribers.delete(subscription);
      throw err;
    }
    if (this.channels.get(channel) === entry) this.deps.channels.report(channel, entry.subscribers.size);
  }

  /**
   * Makes a joined, live subscription a presence member and returns its
   * reply's `presence` JSON, or undefined when it closed meanwhile. Rejects
   * when the engine cannot be reached; the caller closes the subscription,
   * which leaves again.
   */
  async joinPresence(subscription: Subscription, connection: string, member: PresenceMember): Promise<string | undefined> {
    const { channel } = subscription;
    const entry = this.channels.get(channel);
    if (!entry?.subscribers.has(subscription)) return undefined;
    const room = (entry.room ??= new PresenceRoom(channel, this.deps.presence, this.logger));
    room.refs++;
    const joined = this.deps.presence.join(channel, connection, member).then(() => {
      this.deps.metrics.presenceMemberships.inc();
      return true;
    });
    const membership: Membership = { connection, joined: joined.catch(() => false) };
    this.memberships.set(subscription, membership);
    await joined;
    await room.loaded;
    if (subscription.isClosed) return undefined;
    return room.attach(subscription, member);
  }

  /** Called by `Subscription.close()`, once per subscription. */
  leave(subscription: Subscription): void {
    const { channel } = subscription;
    const entry = this.channels.get(channel);
    if (!entry || !entry.subscribers.delete(subscription)) return;
    this.leavePresence(entry, subscription);
    if (entry.subscribers.size > 0) {
      this.deps.channels.report(channel, entry.subscribers.size);
      return;
    }
    this.channels.delete(channel);
    // After the subscribe settled (a failed one holds nothing), and remembered until
    // done, so that a join arriving meanwhile occupies and subscribes only after it.
    const done: Promise<void> = entry.ready
      .then(
        () => this.vacateAndUnsubscribe(channel, entry),
        () => undefined,
      )
      .finally(() => {
        if (this.leaving.get(channel) === done) this.leaving.delete(channel);
      });
    this.leaving.set(channel, done);
  }

  onEvent(event: BusEvent): void {
    const entry = this.channels.get(event.channel);
    if (!entry) return;
    this.deps.metrics.deliverLatency.observe(Math.max(0, this.now() - event.ts) / 1000);
    // One wrapper per event, shared by every subscriber: the wire forms are built once on it.
    const outbound = new OutboundEvent(event);
    for (const subscription of entry.subscribers) subscription.deliver(outbound);
  }

  onGap(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    this.logger.warn({ channel, subscribers: entry.subscribers.size }, 'continuity lost on channel; subscribers must resume');
    // Their sessions close; presence subscribers get a fresh member list when they resubscribe.
    for (const subscription of [...entry.subscribers]) subscription.sink.gap(channel);
  }

  onPresence(channel: string, change: PresenceChange): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    entry.room?.apply(change);
    for (const observer of this.observers) observer.onPresence(channel, change);
  }

  /**
   * The bus's live delivery of `channel` was interrupted and has caught up
   * (events backfilled); presence transitions sent meanwhile are not in any
   * history, so the view is read again and the differences told.
   */
  onResume(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    void entry.room?.sync();
    for (const observer of this.observers) observer.onResume(channel);
  }

  private async occupyAndSubscribe(channel: string): Promise<void> {
    await this.deps.channels.occupy(channel);
    try {
      await this.deps.bus.subscribe(channel, this);
    } catch (err) {
      await this.deps.channels.vacate(channel).catch((e: unknown) => this.logger.warn({ err: e, channel }, 'vacate after a failed subscribe failed'));
      throw err;
    }
  }

  private leavePresence(entry: ChannelEntry, subscription: Subscription): void {
    const membership = this.memberships.get(subscription);
    if (!membership) return;
    this.memberships.delete(subscription);
    const { channel } = subscription;
    if (entry.room) {
      entry.room.detach(subscription);
      if (--entry.room.refs === 0) entry.room = undefined;
    }
    const left: Promise<void> = membership.joined
      .then(async (joined) => {
        if (!joined) return;
        try {
          await this.deps.presence.leave(channel, membership.connection);
        } finally {
          // The membership is gone from here either way: a leave that failed expires (PRESENCE_TTL_SECONDS).
          this.deps.metrics.presenceMemberships.dec();
        }
      })
      .catch((err: unknown) => this.logger.warn({ err, channel }, 'presence leave failed; the member expires with PRESENCE_TTL_SECONDS'))
      .finally(() => entry.leaves.delete(left));
    entry.leaves.add(left);
  }

  private async vacateAndUnsubscribe(channel: string, entry: ChannelEntry): Promise<void> {
    await Promise.all(entry.leaves);
    await this.deps.channels.vacate(channel).catch((err: unknown) => this.logger.warn({ err, channel }, 'vacate failed; occupancy expires with PRESENCE_TTL_SECONDS'));
    await this.deps.bus.unsubscribe(channel).catch((err: unknown) => this.logger.warn({ err, channel }, 'bus unsubscribe failed'));
  }
}
