import type { Logger } from 'pino';
import type { Bus, BusEvent, BusHandler } from '../engine/bus.js';
import type { Channels } from '../engine/channels.js';
import type { PresenceChange } from '../engine/presence.js';
import type { Metrics } from '../runtime/metrics.js';
import { OutboundEvent } from './outbound-event.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';

interface ChannelEntry {
  subscribers: Set<Subscription>;
  /** Resolves once the bus subscription is live; shared by concurrent joins. */
  ready: Promise<void>;
}

/** Hears the presence transitions of every channel this hub holds (the Pusher endpoint's presence rooms). */
export interface PresenceObserver {
  onPresence(channel: string, change: PresenceChange): void;
  /** The bus resubscribed the channel after an interruption: transitions of the meantime may be missing. */
  onResume(channel: string): void;
}

export interface HubDeps {
  bus: Pick<Bus, 'subscribe' | 'unsubscribe'>;
  /** Occupancy and counts (engine.channels); absent, nothing is reported (fixtures built on a bare bus). */
  channels?: Pick<Channels, 'occupy' | 'vacate' | 'report'>;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

/**
 * Counts this process's subscribers per channel and touches the broker only
 * on the first join and the last leave (centrifuge's node.go does the same):
 * occupancy, then the bus subscription, on the first; the bus unsubscribe
 * and the vacate on the last. A channel with 10,000 local subscribers costs
 * one Redis subscription, whichever protocol (native or Pusher) they speak,
 * and its count is reported on every change (Channels.report batches it).
 */
export class Hub implements BusHandler, SubscriptionOwner {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Last-leave work (vacate, bus unsubscribe) still under way, per channel. */
  private readonly leaving = new Map<string, Promise<void>>();
  private readonly observers = new Set<PresenceObserver>();
  private readonly logger: Logger;
  private readonly now: () => number;

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

  /** Resolves when the subscription receives every event published from now on. */
  async join(subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    let entry = this.channels.get(channel);
    if (!entry) {
      const created: ChannelEntry = { subscribers: new Set(), ready: Promise.resolve() };
      // A leave of the same channel may still be unsubscribing from the bus (e.g. a client
      // sent unsubscribe and subscribe in one breath): the bus must see them in that order.
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
    if (this.channels.get(channel) === entry) this.deps.channels?.report(channel, entry.subscribers.size);
  }

  /** Called by `Subscription.close()`, once per subscription. */
  leave(subscription: Subscription): void {
    const { channel } = subscription;
    const entry = this.channels.get(channel);
    if (!entry || !entry.subscribers.delete(subscription)) return;
    if (entry.subscribers.size > 0) {
      this.deps.channels?.report(channel, entry.subscribers.size);
      return;
    }
    this.channels.delete(channel);
    // After the subscribe settled (a failed one holds nothing), and remembered until
    // done, so that a join arriving meanwhile occupies and subscribes only after it.
    const done: Promise<void> = entry.ready
      .then(
        () => this.vacateAndUnsubscribe(channel),
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
    for (const subscription of [...entry.subscribers]) subscription.sink.gap(channel);
  }

  onPresence(channel: string, change: PresenceChange): void {
    if (!this.channels.has(channel)) return;
    for (const observer of this.observers) observer.onPresence(channel, change);
  }

  onResubscribed(channel: string): void {
    if (!this.channels.has(channel)) return;
    for (const observer of this.observers) observer.onResume(channel);
  }

  private async occupyAndSubscribe(channel: string): Promise<void> {
    await this.deps.channels?.occupy(channel);
    try {
      await this.deps.bus.subscribe(channel, this);
    } catch (err) {
      await this.deps.channels?.vacate(channel).catch((e: unknown) => this.logger.warn({ err: e, channel }, 'vacate after a failed subscribe failed'));
      throw err;
    }
  }

  private async vacateAndUnsubscribe(channel: string): Promise<void> {
    await this.deps.channels?.vacate(channel).catch((err: unknown) => this.logger.warn({ err, channel }, 'vacate failed; occupancy expires with PRESENCE_TTL_SECONDS'));
    await this.deps.bus.unsubscribe(channel).catch((err: unknown) => this.logger.warn({ err, channel }, 'bus unsubscribe failed'));
  }
}
