import type { Logger } from 'pino';
import type { Bus, BusEvent, BusHandler } from '../engine/bus.js';
import type { Metrics } from '../runtime/metrics.js';
import { OutboundEvent } from './outbound-event.js';
import type { Subscription, SubscriptionOwner } from './subscription.js';

interface ChannelEntry {
  subscribers: Set<Subscription>;
  /** Resolves once the bus subscription is live; shared by concurrent joins. */
  ready: Promise<void>;
}

/**
 * Counts this process's subscribers per channel and touches the bus only on
 * the first join and the last leave (centrifuge's node.go does the same), so
 * that a channel with 10,000 local subscribers costs one Redis subscription.
 */
export class Hub implements BusHandler, SubscriptionOwner {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Bus unsubscribes still under way, per channel. */
  private readonly leaving = new Map<string, Promise<void>>();
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: { bus: Pick<Bus, 'subscribe' | 'unsubscribe'>; logger: Logger; metrics: Metrics; now?: () => number }) {
    this.logger = deps.logger.child({ component: 'hub' });
    this.now = deps.now ?? Date.now;
  }

  get channelCount(): number {
    return this.channels.size;
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
        .then(() => this.deps.bus.subscribe(channel, this))
        .catch((err: unknown) => {
          // Undo, so that the next join tries the bus again instead of waiting on a dead promise.
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
  }

  /** Called by `Subscription.close()`, once per subscription. */
  leave(subscription: Subscription): void {
    const { channel } = subscription;
    const entry = this.channels.get(channel);
    if (!entry || !entry.subscribers.delete(subscription) || entry.subscribers.size > 0) return;
    this.channels.delete(channel);
    // After the subscribe settled (a failed one needs no unsubscribe), and remembered until
    // done, so that a join arriving meanwhile subscribes only after it.
    const done: Promise<void> = entry.ready
      .then(
        () => this.deps.bus.unsubscribe(channel),
        () => undefined,
      )
      .catch((err: unknown) => this.logger.warn({ err, channel }, 'bus unsubscribe failed'))
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
}
