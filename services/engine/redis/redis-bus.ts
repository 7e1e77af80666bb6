import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RelayError, isRelayError, type EventOutcome } from '../../protocol/errors.js';
import { STREAM_IDS } from '../../protocol/event-id.js';
import type { Config } from '../../runtime/config/schema.js';
import type { EngineMetrics as Metrics } from '../engine-metrics.js';
import type { Bus, BusEvent, BusHandler, BusHealth, HistoryResult, OutgoingEvent, PublishResult } from '../bus.js';
import { RedisCanary } from './canary.js';
import { webhookChannels } from '../webhooks/routes.js';
import { ClusterProbes } from './cluster/cluster-probes.js';
import { ShardedSubscriber } from './cluster/sharded-subscriber.js';
import type { RedisClient } from './connections.js';
import { definePublishScript, publishGroups, runPublishScript, type PublishTarget, type ScriptOutcome } from './publish.js';
import { streamKey } from './keys.js';
import { entryToEvent, isStreamId, readStream, type StreamEntry } from './stream.js';
import { RedisSubscriber, type Subscriptions } from './subscriber.js';

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
  /** Command client, made by connections.ts: one connection, or a Cluster client (then `sharded` is set). Never closed by the bus. */
  redis: RedisClient;
  /**
   * Standalone and Sentinel: the pub/sub connection (`redis.duplicate()`),
   * needed only to subscribe; the source-server passes none. Never closed by the bus.
   */
  subscriber?: Redis;
  /**
   * Redis Cluster: live delivery over sharded pub/sub. With `openNode`, this
   * process subscribes: the bus opens (and closes) one pub/sub connection per master.
   */
  sharded?: { openNode?(host: string, port: number): Redis };
}

/**
 * The bus between processes: each channel is a Redis stream (its history)
 * plus a pub/sub topic (its live feed), written together by one Lua script
 * (publish.ts) on the channel's slot. Keys are named in keys.ts; subscribing,
 * dedupe and backfill live in subscriber.ts (one server) or
 * cluster/sharded-subscriber.ts (a Cluster), per-channel delivery in feed.ts.
 *
 * Atomicity is per channel: a batch is stored by one script run on one
 * Redis, by one run per slot on a Cluster. A batch over several slots whose
 * runs did not all succeed is answered `unavailable` listing exactly which
 * events were stored (RelayError.results), never 2xx.
 */
export class RedisBus implements Bus {
  readonly ids = STREAM_IDS;
  private readonly logger: Logger;
  private readonly subscriptions?: Subscriptions;
  /** Notices a Redis that does not answer, or a subscriber connection that silently delivers nothing (canary.ts, cluster/). */
  private readonly canary?: RedisCanary;
  /** Channels whose client publishes append a `client.publish` transition. */
  private readonly webhooks: (channel: string) => boolean;
  private readonly probes?: ClusterProbes;
  private readonly target: PublishTarget;

  constructor(private readonly deps: RedisBusDeps) {
    this.logger = deps.logger.child({ component: 'redis-bus' });
    this.webhooks = webhookChannels(deps.config);
    definePublishScript(deps.redis);
    const { config } = deps;
    this.target = {
      publishCommand: deps.sharded ? 'SPUBLISH' : 'PUBLISH',
      waitReplicas: config.redisWaitReplicas,
      waitTimeoutMs: config.redisWaitTimeoutMs,
    };
    const intervalMs = (config.canaryIntervalSeconds ?? 0) * 1000;
    if (deps.sharded) {
      const cluster = deps.redis as Cluster;
      if (deps.sharded.openNode) {
        this.subscriptions = new ShardedSubscriber({ cluster, openNode: deps.sharded.openNode, logger: this.logger, metrics: deps.metrics, canaryIntervalMs: intervalMs });
      } else if (intervalMs > 0) {
        this.probes = new ClusterProbes(cluster, this.logger, intervalMs);
      }
      return;
    }
    const redis = deps.redis as Redis;
    if (deps.subscriber) {
      this.subscriptions = new RedisSubscriber({ redis, subscriber: deps.subscriber, logger: this.logger, metrics: deps.metrics });
    }
    if (intervalMs > 0) {
      this.canary = new RedisCanary({ redis, subscriber: deps.subscriber, logger: this.logger, metrics: deps.metrics, intervalMs });
    }
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]> {
    if (events.length === 0) return [];
    const { config, redis } = this.deps;
    const groups = publishGroups(events, this.deps.sharded !== undefined);
    const outcomes = await Promise.allSettled(
      groups.map((group) => runPublishScript(redis, group.map((i) => events[i]!), { ...config, webhooks: this.webhooks }, this.target)),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')?.reason as unknown;
    const confirmed = (o: ScriptOutcome) => config.redisWaitReplicas <= 0 || (o.acked ?? 0) >= config.redisWaitReplicas;
    if (failure === undefined && outcomes.every((o) => o.status === 'fulfilled' && confirmed(o.value))) {
      if (groups.length === 1) return (outcomes[0] as PromiseFulfilledResult<ScriptOutcome>).value.results;
      const results: PublishResult[] = new Array<PublishResult>(events.length);
      outcomes.forEach((o, g) => (o as PromiseFulfilledResult<ScriptOutcome>).value.results.forEach((r, j) => (results[groups[g]![j]!] = r)));
      return results;
    }
    if (outcomes.every((o) => o.status === 'rejected')) {
      if (isRelayError(failure)) throw failure;
      // While the connection is down its cause is logged once (connection-state.ts), not per request.
      if (this.deps.redis.status === 'ready') this.logger.warn({ err: failure, events: events.length }, 'publish failed');
      else this.logger.debug({ err: failure, events: events.length }, 'publish failed: Redis is not ready');
      throw new RelayError('unavailable', 'The event store (Redis) did not confirm the events; retry shortly.', { cause: failure });
    }
    throw this.partial(events, groups, outcomes, failure);
  }

  /**
   * Some events are stored and some are not (or not on enough replicas):
   * 503 naming each event's fate, so that the producer retries exactly the
   * ones without an id and never takes a stored event for a lost one.
   */
  private partial(events: readonly OutgoingEvent[], groups: number[][], outcomes: PromiseSettledResult<ScriptOutcome>[], failure: unknown): RelayError {
    const { redisWaitReplicas } = this.deps.config;
    const results: EventOutcome[] = events.map((e) => ({ channel: e.channel }));
    let stored = 0;
    let unconfirmed = 0;
    let minAcked = Infinity;
    outcomes.forEach((o, g) => {
      const group = groups[g]!;
      if (o.status === 'rejected') {
        for (const i of group) results[i]!.error = { code: 'unavailable', message: 'Not confirmed: its Redis shard did not answer; publish it again (with an Idempotency-Key it is stored once).' };
        return;
      }
      const short = redisWaitReplicas > 0 && (o.value.acked ?? 0) < redisWaitReplicas;
      if (short) minAcked = Math.min(minAcked, o.value.acked ?? 0);
      o.value.results.forEach((r, j) => {
        const outcome = results[group[j]!]!;
        outcome.id = r.id;
        if (r.replayed) outcome.replayed = true;
        stored++;
        if (short) {
          unconfirmed++;
          outcome.error = {
            code: 'unavailable',
            message: `Stored, but only ${o.value.acked ?? 0} of ${redisWaitReplicas} Redis replicas confirmed it in time; publish it again with its Idempotency-Key.`,
          };
        }
      });
    });
    if (failure !== undefined) this.logger.warn({ err: failure, events: events.length, stored }, 'publish stored only part of a batch');
    const message =
      stored === unconfirmed
        ? `The events were stored but only ${minAcked} of ${redisWaitReplicas} Redis replicas confirmed them in time; retry shortly (with the same Idempotency-Key).`
        : `${stored} of ${events.length} events were stored (see results: an event with an id is stored); retry the others shortly.`;
    return new RelayError('unavailable', message, { results, cause: failure });
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
    if (this.deps.redis.status === 'ready') this.logger.warn({ err, channel }, 'history read failed');
    else this.logger.debug({ err, channel }, 'history read failed: Redis is not ready');
    return new RelayError('unavailable', 'The event history (Redis) cannot be read right now; retry shortly.', { cause: err });
  }

  health(): BusHealth {
    const status = this.deps.redis.status;
    if (status !== 'ready') return { ok: false, reason: `the Redis ${this.deps.sharded ? 'Cluster client' : 'command connection'} is ${status}` };
    const problem = this.commandProblem() ?? this.canary?.problem() ?? this.probes?.problem() ?? this.subscriptions?.problem();
    return problem === undefined ? { ok: true } : { ok: false, reason: problem };
  }

  /** On a Cluster: a master whose command connection is not up (its channels answer 503 until it is). */
  private commandProblem(): string | undefined {
    if (!this.deps.sharded) return undefined;
    const down = (this.deps.redis as Cluster).nodes('master').filter((node) => node.status !== 'ready');
    if (down.length === 0) return undefined;
    return down.map((node) => `Redis shard ${node.options.host}:${node.options.port}: its command connection is ${node.status}`).join('; ');
  }

  async close(): Promise<void> {
    await this.canary?.close();
    this.probes?.close();
    await this.subscriptions?.close();
  }
}
