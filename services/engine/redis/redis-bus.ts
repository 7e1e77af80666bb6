import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RelayError, isRelayError } from '../../protocol/errors.js';
import { STREAM_IDS } from '../../protocol/event-id.js';
import type { Config } from '../../runtime/config/schema.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { Bus, BusEvent, BusHandler, BusHealth, HistoryResult, OutgoingEvent, PublishResult } from '../bus.js';
import { RedisCanary } from './canary.js';
import { webhookChannels } from '../webhooks/routes.js';
import { definePublishScript, runPublishScript } from './publish.js';
import { streamKey } from './keys.js';
import { entryToEvent, isStreamId, readStream, type StreamEntry } from './stream.js';
import { RedisSubscriber } from './subscriber.js';

export type RedisBusConfig = Pick<
  Config,
  'historySize' | 'historyTtlSeconds' | 'idempotencyTtlSeconds' | 'redisWaitReplicas' | 'redisWaitTimeoutMs'
> &
  /** WEBHOOK_URLS or a Pusher app's webhooks: client publishes then append their transition to the webhook outbox (publish.ts). */
  Partial<Pick<Config, 'webhookUrls' | 'pusherApps'>> &
  /** CANARY_INTERVAL_SECONDS; absent or 0: no canary (loadConfig defaults it to 5). */
  Partial<Pick<Config, 'canaryIntervalSeconds'>>;

export interface RedisBusDeps {
  config: RedisBusConfig;
  logger: Logger;
  /** Counts reconnects, backfilled events and gaps. Optional. */
  metrics?: Metrics;
  /** Command connection, made with `redisClientOptions(config)`. Never closed by the bus. */
  redis: Redis;
  /**
   * Pub/sub connection (`redis.duplicate()`), needed only to subscribe; the
   * source-server passes none. Never closed by the bus.
   */
  subscriber?: Redis;
}

/**
 * The bus between processes: each channel is a Redis stream (its history)
 * plus a pub/sub topic (its live feed), written together by one Lua script
 * (publish.ts). Keys are named in keys.ts; subscribing, dedupe and reconnect
 * backfill live in subscriber.ts; the live message format in bus-message.ts.
 */
export class RedisBus implements Bus {
  readonly ids = STREAM_IDS;
  private readonly logger: Logger;
  private readonly subscriptions?: RedisSubscriber;
  /** Notices a Redis that does not answer, or a subscriber connection that silently delivers nothing (canary.ts). */
  private readonly canary?: RedisCanary;
  /** Channels whose client publishes append a `client.publish` transition. */
  private readonly webhooks: (channel: string) => boolean;

  constructor(private readonly deps: RedisBusDeps) {
    this.logger = deps.logger.child({ component: 'redis-bus' });
    this.webhooks = webhookChannels(deps.config);
    definePublishScript(deps.redis);
    if (deps.subscriber) {
      this.subscriptions = new RedisSubscriber({ redis: deps.redis, subscriber: deps.subscriber, logger: this.logger, metrics: deps.metrics });
    }
    const intervalSeconds = deps.config.canaryIntervalSeconds ?? 0;
    if (intervalSeconds > 0) {
      this.canary = new RedisCanary({
        redis: deps.redis,
        subscriber: deps.subscriber,
        logger: this.logger,
        metrics: deps.metrics,
        intervalMs: intervalSeconds * 1000,
      });
    }
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]> {
    if (events.length === 0) return [];
    const { config, redis } = this.deps;
    try {
      const results = await runPublishScript(redis, events, { ...config, webhooks: this.webhooks });
      if (config.redisWaitReplicas > 0) await this.waitForReplicas();
      return results;
    } catch (err) {
      if (isRelayError(err)) throw err;
      this.logger.warn({ err, events: events.length }, 'publish failed');
      throw new RelayError('unavailable', 'The event store (Redis) did not confirm the events; retry shortly.', { cause: err });
    }
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (!this.subscriptions) throw new Error('RedisBus: subscribing needs a `subscriber` connection');
    await this.subscriptions.subscribe(channel, handler);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.subscriptions?.unsubscribe(channel);
  }

  async history(channel: string, since: string, limit?: number): Promise<HistoryResult> {
    // An id Redis cannot even parse was never issued, and nothing is held after it.
    if (!isStreamId(since)) return limit === undefined ? { recovered: false, events: [] } : { recovered: false, events: [], more: false };
    const events: BusEvent[] = [];
    let recovered = false;
    let more = false;
    let first = true;
    try {
      // One entry more than asked for (and `since` itself) tells whether later events exist.
      pages: for await (const page of readStream(this.deps.redis, channel, since, limit === undefined ? undefined : limit + 2)) {
        for (const entry of page) {
          if (first && entry[0] === since) recovered = true;
          else if (limit !== undefined && events.length === limit) {
            more = true;
            break pages;
          } else {
            const event = entryToEvent(channel, entry);
            if (event) events.push(event);
          }
          first = false;
        }
      }
    } catch (err) {
      throw this.unreadable(err, channel);
    }
    return limit === undefined ? { recovered, events } : { recovered, events, more };
  }

  async latest(channel: string, limit: number): Promise<BusEvent[]> {
    try {
      const entries = (await this.deps.redis.xrevrange(streamKey(channel), '+', '-', 'COUNT', limit)) as StreamEntry[];
      const events: BusEvent[] = [];
      for (let i = entries.length - 1; i >= 0; i--) {
        const event = entryToEvent(channel, entries[i]!);
        if (event) events.push(event);
      }
      return events;
    } catch (err) {
      throw this.unreadable(err, channel);
    }
  }

  private unreadable(err: unknown, channel: string): RelayError {
    this.logger.warn({ err, channel }, 'history read failed');
    return new RelayError('unavailable', 'The event history (Redis) cannot be read right now; retry shortly.', { cause: err });
  }

  health(): BusHealth {
    const status = this.deps.redis.status;
    if (status !== 'ready') return { ok: false, reason: `the Redis command connection is ${status}` };
    const problem = this.canary?.problem() ?? this.subscriptions?.problem();
    return problem === undefined ? { ok: true } : { ok: false, reason: problem };
  }

  async close(): Promise<void> {
    await this.canary?.close();
    await this.subscriptions?.close();
  }

  /**
   * WAIT makes a 200 mean "on n replicas too", so a failover cannot lose an
   * acknowledged event. On too few acks the events are stored on the primary
   * anyway: the 503 tells the producer to retry, and a retry with the same
   * Idempotency-Key is answered from the stored event.
   */
  private async waitForReplicas(): Promise<void> {
    const { redisWaitReplicas, redisWaitTimeoutMs } = this.deps.config;
    const acked = await this.deps.redis.wait(redisWaitReplicas, redisWaitTimeoutMs);
    if (acked < redisWaitReplicas) {
      throw new RelayError(
        'unavailable',
        `The event was stored but only ${acked} of ${redisWaitReplicas} Redis replicas confirmed it in time; retry shortly.`,
      );
    }
  }
}
