import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EngineMetrics as Metrics } from '../../engine-metrics.js';
import type { BusHandler } from '../../bus.js';
import { Feeds, newSubscription, type Subscription } from '../feed.js';
import { newestId } from '../stream.js';
import { unavailable, type Subscriptions } from '../subscriber.js';
import { Shard } from './shard.js';
import { canaryTopicOn, channelSlot, keySlot, masters, ownerOf, splitNodeKey } from './slots.js';

export interface ShardedSubscriberDeps {
  /** The command client: slot map, baselines, backfill, canaries. Never closed here. */
  cluster: Cluster;
  /** A new pub/sub connection to one master; the shard that asked for it closes it. */
  openNode(host: string, port: number): Redis;
  logger: Logger;
  metrics?: Metrics;
  /** CANARY_INTERVAL_SECONDS × 1000; 0: no canary. */
  canaryIntervalMs: number;
}

interface Entry {
  sub: Subscription;
  slot: number;
  shard: Shard;
}

/**
 * The subscribing half of RedisBus on a Redis Cluster: sharded pub/sub
 * (SSUBSCRIBE), one pub/sub connection per master (shard.ts), never one per
 * channel. Channels are grouped by the master that owns their slot in the
 * Cluster client's slot map; whenever that map changes (a failover, a
 * CLUSTER FAILOVER, a slot migration: ioredis re-reads it every
 * SLOTS_REFRESH_INTERVAL_MS, on MOVED, and on a dead node) every channel whose
 * owner changed moves, in bulk, to its new master's shard, which SSUBSCRIBEs
 * and backfills it from its stream after the last delivered id.
 *
 * Why not ioredis's `shardedSubscribers`: it resubscribes without telling
 * anyone when (nothing to hang a backfill on), silently drops failed
 * SSUBSCRIBEs, and hides its per-shard connections from health checks. The
 * same grouping is what Centrifugo does per partition (one dedicated
 * connection each, resubscribed in bulk on a slot move); channels here keep
 * their own hash tag instead of a partition's, so that a channel's stream
 * and topic share a slot and one busy channel never drags a partition along.
 */
export class ShardedSubscriber implements Subscriptions {
  private readonly shards = new Map<string, Shard>();
  private readonly byChannel = new Map<string, Entry>();
  private readonly feeds: Feeds;
  private readonly logger: Logger;
  /** `er:canary:{<uuid>`: per process, outside the `er:{<channel>}` names, so no publisher can reach it; the tag is completed per master. */
  private readonly canaryBase = `er:canary:{${randomUUID()}`;
  private readonly timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly deps: ShardedSubscriberDeps) {
    this.logger = deps.logger;
    this.feeds = new Feeds({ redis: deps.cluster, logger: deps.logger, metrics: deps.metrics });
    deps.cluster.on('refresh', this.reconcile);
    this.reconcile();
    if (deps.canaryIntervalMs > 0) this.timer = setInterval(() => this.tick(), deps.canaryIntervalMs).unref();
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    const slot = channelSlot(channel);
    let baseline: string;
    try {
      baseline = await newestId(this.deps.cluster, channel);
    } catch (err) {
      throw unavailable(`Cannot subscribe to "${channel}": Redis is unreachable (the shard of slot ${slot}).`, err);
    }
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    const owner = ownerOf(this.deps.cluster, slot);
    if (owner === undefined) throw unavailable(`Cannot subscribe to "${channel}": the Redis Cluster's slot map is not known yet.`, undefined);
    const shard = this.shard(owner);
    const sub = newSubscription(channel, handler, baseline);
    this.byChannel.set(channel, { sub, slot, shard });
    try {
      await shard.subscribe(sub);
    } catch (err) {
      const entry = this.byChannel.get(channel);
      if (entry?.sub === sub) {
        this.byChannel.delete(channel);
        entry.shard.release(sub);
      }
      throw err;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const entry = this.byChannel.get(channel);
    if (!entry) return;
    this.byChannel.delete(channel);
    entry.shard.release(entry.sub);
  }

  problem(): string | undefined {
    const status = this.deps.cluster.status;
    if (status !== 'ready') return `the Redis Cluster client is ${status}`;
    const problems: string[] = [];
    for (const shard of this.shards.values()) {
      const problem = shard.problem();
      if (problem) problems.push(`Redis shard ${shard.key}: ${problem}`);
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.deps.cluster.off('refresh', this.reconcile);
    this.byChannel.clear();
    await Promise.all([...this.shards.values()].map((s) => s.close()));
    this.shards.clear();
  }

  /** The master's shard, made on first need: one pub/sub connection per master. */
  private shard(key: string): Shard {
    let shard = this.shards.get(key);
    if (!shard) {
      const { host, port } = splitNodeKey(key);
      shard = new Shard({
        key,
        connection: this.deps.openNode(host, port),
        feeds: this.feeds,
        logger: this.logger,
        metrics: this.deps.metrics,
        onMoved: this.refresh,
        canary: this.deps.canaryIntervalMs > 0,
      });
      this.shards.set(key, shard);
      this.placeCanary(shard);
    }
    return shard;
  }

  private readonly refresh = (): void => {
    if (!this.closed) this.deps.cluster.refreshSlotsCache();
  };

  /**
   * After every read of the slot map: a shard for every master (so that the
   * canary covers each), every channel on the shard of its slot's master
   * (moved in bulk when that changed), and shards of nodes that are no
   * longer masters closed once empty.
   */
  private readonly reconcile = (): void => {
    if (this.closed) return;
    const owned = masters(this.deps.cluster);
    if (owned.size === 0) return; // not connected yet: nothing is known
    for (const key of owned.keys()) this.shard(key);
    const moves = new Map<string, number>();
    for (const entry of this.byChannel.values()) {
      const owner = ownerOf(this.deps.cluster, entry.slot);
      if (owner === undefined || owner === entry.shard.key) continue;
      const from = entry.shard;
      from.release(entry.sub);
      entry.shard = this.shard(owner);
      entry.shard.adopt(entry.sub);
      const move = `${from.key} -> ${owner}`;
      moves.set(move, (moves.get(move) ?? 0) + 1);
    }
    for (const [move, channels] of moves) this.logger.warn({ move, channels }, 'Redis Cluster slots moved; resubscribing and backfilling their channels on the new master');
    for (const [key, shard] of this.shards) {
      if (owned.has(key)) this.placeCanary(shard);
      else if (shard.size === 0) {
        this.shards.delete(key);
        void shard.close();
      }
    }
  };

  private placeCanary(shard: Shard): void {
    if (!shard.canary) return;
    const current = shard.canaryTopic;
    if (current !== undefined && ownerOf(this.deps.cluster, keySlot(current)) === shard.key) return;
    const topic = canaryTopicOn(this.deps.cluster, shard.key, this.canaryBase);
    if (topic) shard.setCanaryTopic(topic);
  }

  private tick(): void {
    if (this.deps.cluster.status !== 'ready') return;
    for (const shard of this.shards.values()) shard.canaryTick((topic, seq) => this.deps.cluster.spublish(topic, String(seq)));
  }
}
