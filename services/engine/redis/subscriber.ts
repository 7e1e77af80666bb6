import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RelayError } from '../../protocol/errors.js';
import type { EngineMetrics as Metrics } from '../engine-metrics.js';
import type { BusHandler } from '../bus.js';
import { Feeds, newSubscription, type Subscription } from './feed.js';
import { lostHistory, newestId, serverIdentity, type ServerIdentity } from './stream.js';

/** A failed recovery (e.g. the command connection is not back yet) is tried again after this long. */
export const RECOVERY_RETRY_MS = 250;

/** What RedisBus needs of its subscribing half, on any topology. */
export interface Subscriptions {
  subscribe(channel: string, handler: BusHandler): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Why live delivery cannot be trusted right now, or undefined when it can. */
  problem(): string | undefined;
  close(): Promise<void>;
}

export interface RedisSubscriberDeps {
  /** Command connection: baselines, backfill, INFO (standalone or Sentinel: one server). */
  redis: Redis;
  /** Pub/sub connection; its listeners are removed again by `close()`. */
  subscriber: Redis;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * The subscribing half of RedisBus on one server (standalone, or the
 * primary Sentinel names): one SUBSCRIBE per channel, per-channel dedupe by
 * id, and after every reconnect of the subscriber connection (a blip, a
 * restart, a failover to another primary) a confirmed re-SUBSCRIBE plus a
 * backfill from the stream (feed.ts).
 */
export class RedisSubscriber implements Subscriptions {
  private readonly byChannel = new Map<string, Subscription>();
  private readonly byTopic = new Map<string, Subscription>();
  private readonly logger: Logger;
  private readonly feeds: Feeds;
  /** The server as it was when we last had everything in order; a server that does not continue its history may have lost events. */
  private identity?: ServerIdentity;
  /** Set from a drop of the subscriber connection until resubscribe and backfill are done. */
  private recovering = false;
  /** Bumped on every drop, so that a recovery overtaken by a newer drop stops. */
  private generation = 0;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  /** Until the first `ready` there is nothing to recover: subscribe needs a ready connection. */
  private connectedOnce: boolean;

  constructor(private readonly deps: RedisSubscriberDeps) {
    this.logger = deps.logger;
    this.feeds = new Feeds(deps);
    this.connectedOnce = deps.subscriber.status === 'ready';
    deps.subscriber.on('messageBuffer', this.onMessage);
    deps.subscriber.on('close', this.onDrop);
    deps.subscriber.on('ready', this.onReady);
  }

  problem(): string | undefined {
    const status = this.deps.subscriber.status;
    if (status !== 'ready') return `the Redis subscriber connection is ${status}`;
    if (this.recovering) return 'the Redis subscriber is resubscribing and backfilling after a reconnect';
    return undefined;
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    let baseline: string;
    try {
      const [newest, identity] = await Promise.all([
        newestId(this.deps.redis, channel),
        this.identity === undefined ? serverIdentity(this.deps.redis) : undefined,
      ]);
      baseline = newest;
      this.identity ??= identity;
    } catch (err) {
      throw unavailable(`Cannot subscribe to "${channel}": Redis is unreachable.`, err);
    }
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    const sub = newSubscription(channel, handler, baseline);
    this.byChannel.set(channel, sub);
    this.byTopic.set(sub.topic, sub);
    try {
      await this.deps.subscriber.subscribe(sub.topic);
    } catch (err) {
      this.forget(sub);
      throw unavailable(`Cannot subscribe to "${channel}": Redis is unreachable.`, err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const sub = this.byChannel.get(channel);
    if (!sub) return;
    this.forget(sub);
    try {
      await this.deps.subscriber.unsubscribe(sub.topic);
    } catch (err) {
      // Nothing is delivered for a forgotten topic; Redis drops the subscription with the connection.
      this.logger.debug({ err, channel }, 'UNSUBSCRIBE failed; the topic is ignored from now on');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    const { subscriber } = this.deps;
    subscriber.off('messageBuffer', this.onMessage);
    subscriber.off('close', this.onDrop);
    subscriber.off('ready', this.onReady);
    const topics = [...this.byTopic.keys()];
    this.byChannel.clear();
    this.byTopic.clear();
    if (topics.length > 0 && subscriber.status === 'ready') {
      await subscriber.unsubscribe(...topics).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE at close failed'));
    }
  }

  private forget(sub: Subscription): void {
    if (this.byChannel.get(sub.channel) === sub) this.byChannel.delete(sub.channel);
    if (this.byTopic.get(sub.topic) === sub) this.byTopic.delete(sub.topic);
  }

  private readonly onMessage = (topic: Buffer, message: Buffer): void => {
    const sub = this.byTopic.get(topic.toString());
    if (sub) this.feeds.live(sub, message); // else a topic we just left; ioredis may still deliver a message or two
  };

  private readonly onDrop = (): void => {
    if (this.closed || !this.connectedOnce) return;
    this.generation++;
    clearTimeout(this.retryTimer);
    if (!this.recovering) this.logger.warn('Redis subscriber connection lost; will resubscribe and backfill');
    this.recovering = true;
    for (const sub of this.byChannel.values()) this.feeds.hold(sub);
  };

  private readonly onReady = (): void => {
    this.connectedOnce = true;
    if (this.closed || !this.recovering) return;
    void this.recover(this.generation);
  };

  /** Re-SUBSCRIBEs every active topic (confirmed), then backfills each channel from its last delivered id. */
  private async recover(generation: number): Promise<void> {
    const current = () => generation === this.generation && !this.closed;
    try {
      const subs = [...this.byChannel.values()];
      if (subs.length > 0) await this.deps.subscriber.subscribe(...subs.map((s) => s.topic));
      if (!current()) return;
      const identity = await serverIdentity(this.deps.redis);
      const restarted = lostHistory(this.identity, identity);
      let backfilled = 0;
      for (const sub of subs) {
        if (this.byChannel.get(sub.channel) !== sub) continue;
        backfilled += await this.feeds.catchUp(sub, restarted, () => current() && this.byChannel.get(sub.channel) === sub);
        if (!current()) return;
      }
      this.identity = identity;
      this.recovering = false;
      this.deps.metrics?.busReconnects.inc();
      this.logger.info({ channels: subs.length, backfilled, restarted }, 'Redis subscriber reconnected and caught up');
    } catch (err) {
      if (!current()) return;
      this.logger.warn({ err }, 'resubscribe or backfill failed; retrying');
      this.retryTimer = setTimeout(() => void this.recover(generation), RECOVERY_RETRY_MS).unref();
    }
  }
}

export function unavailable(message: string, cause: unknown): RelayError {
  return new RelayError('unavailable', message, { cause });
}
