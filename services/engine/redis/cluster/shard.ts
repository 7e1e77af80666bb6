import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EngineMetrics as Metrics } from '../../engine-metrics.js';
import type { Feeds, Subscription } from '../feed.js';
import { lostHistory, serverIdentity, type ServerIdentity } from '../stream.js';
import { RECOVERY_RETRY_MS, unavailable } from '../subscriber.js';
import { ShardCanary } from './shard-canary.js';

export interface ShardDeps {
  /** `host:port` of the master, as the Cluster client's slot map names it. */
  key: string;
  /** This shard's pub/sub connection (autoResubscribe off: resubscribing is ours, confirmed). Closed by `close()`. */
  connection: Redis;
  feeds: Feeds;
  logger: Logger;
  metrics?: Metrics;
  /** The master says a slot moved away (ioredis 6 turns Redis's unsolicited `sunsubscribe` into `moved`): re-read the slot map. */
  onMoved(): void;
  /** Whether a canary runs (CANARY_INTERVAL_SECONDS > 0). */
  canary: boolean;
}

/** A subscription waiting for its SSUBSCRIBE and catch-up; `check`: it was here before a reconnect, ask whether the master lost its data. */
interface Pending {
  restarted: boolean | 'check';
  /** A first subscribe awaits its confirmation. */
  waiter?: { resolve(): void; reject(err: unknown): void };
}

/**
 * One Redis Cluster master as a client-server sees it: one pub/sub
 * connection for every subscribed channel whose slot that master owns, and
 * for this process's canary topic on it. Every SSUBSCRIBE goes through one
 * loop: after a (re)connect the server's identity is read first (INFO, while
 * the connection is not yet in subscriber mode), then the waiting channels
 * are SSUBSCRIBEd in one pipelined burst, confirmed, and each is caught up
 * from its stream (feed.ts). Channels that move here from another shard
 * (failover, slot migration) take the same path.
 */
export class Shard {
  readonly key: string;
  readonly canary?: ShardCanary;
  private readonly subs = new Map<string, Subscription>();
  private readonly pending = new Map<Subscription, Pending>();
  private identity?: ServerIdentity;
  /** The connection holds no subscription since it (re)connected: INFO first. */
  private fresh = true;
  private running = false;
  private generation = 0;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly deps: ShardDeps) {
    this.key = deps.key;
    if (deps.canary) this.canary = new ShardCanary(true);
    const { connection } = deps;
    connection.on('smessageBuffer', this.onMessage);
    connection.on('close', this.onDrop);
    connection.on('ready', this.kick);
    connection.on('moved', deps.onMoved);
    connection.on('error', this.onError);
  }

  get size(): number {
    return this.subs.size;
  }

  /** The topic this shard's canaries travel on (a slot its master owns). */
  get canaryTopic(): string | undefined {
    return this.canary?.topic;
  }

  has(sub: Subscription): boolean {
    return this.subs.get(sub.topic) === sub;
  }

  /** Why this shard's live delivery cannot be trusted, or undefined. */
  problem(): string | undefined {
    const status = this.deps.connection.status;
    if (status !== 'ready') return `its subscriber connection is ${status} (${this.subs.size} channels)`;
    const resubscribing = [...this.pending.values()].filter((p) => !p.waiter).length;
    if (resubscribing > 0) return `resubscribing and backfilling ${resubscribing} channels`;
    return this.canary?.problem();
  }

  /**
   * A first subscribe: resolves once the SSUBSCRIBE is confirmed and the
   * events stored since `sub`'s baseline are delivered.
   */
  subscribe(sub: Subscription): Promise<void> {
    if (this.deps.connection.status !== 'ready') {
      return Promise.reject(unavailable(`Cannot subscribe to "${sub.channel}": its Redis shard ${this.key} is unreachable.`, undefined));
    }
    return new Promise((resolve, reject) => {
      this.take(sub, { restarted: false, waiter: { resolve, reject } });
    });
  }

  /** `sub` moved here from another shard: resubscribe and backfill it (its data moved or was replicated with its slot). */
  adopt(sub: Subscription): void {
    this.take(sub, { restarted: false });
  }

  /** `sub` left (unsubscribed, or moved to another shard). */
  release(sub: Subscription): void {
    if (!this.has(sub)) return;
    this.subs.delete(sub.topic);
    const waiting = this.pending.get(sub);
    this.pending.delete(sub);
    waiting?.waiter?.reject(unavailable(`Cannot subscribe to "${sub.channel}": its slot moved during the subscribe; retry.`, undefined));
    if (this.deps.connection.status === 'ready' && !this.fresh) {
      this.deps.connection.sunsubscribe(sub.topic).catch((err: unknown) => this.deps.logger.debug({ err, shard: this.key }, 'SUNSUBSCRIBE failed; the topic is ignored from now on'));
    }
  }

  /** Listens for this process's canaries on `topic` (a slot this master owns), instead of the previous one. */
  setCanaryTopic(topic: string): void {
    if (!this.canary || topic === this.canary.topic) return;
    const previous = this.canary.moveTo(topic);
    if (previous && this.deps.connection.status === 'ready') this.deps.connection.sunsubscribe(previous).catch(() => undefined);
    this.kick();
  }

  /** One canary period: `publish` SPUBLISHes through the Cluster client (which routes it to this master). */
  canaryTick(publish: (topic: string, seq: number) => Promise<unknown>): void {
    const { canary } = this;
    const canaryTopic = canary?.topic;
    if (!canary || !canaryTopic || this.closed) return;
    if (this.deps.connection.status !== 'ready' || !canary.subscribed) {
      canary.reset();
      return;
    }
    canary.tick(
      (seq) => publish(canaryTopic, seq),
      () => {
        this.deps.metrics?.canaryFailures.inc();
        this.deps.logger.error({ shard: this.key }, 'a Redis shard subscriber connection delivers nothing; forcing a reconnect, then resubscribe and backfill');
        this.deps.connection.disconnect(true);
      },
      (misses) => this.deps.logger.warn({ shard: this.key, misses }, 'a canary did not come back through a Redis shard subscriber connection'),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    this.clearRetry();
    const { connection } = this.deps;
    connection.off('smessageBuffer', this.onMessage);
    connection.off('close', this.onDrop);
    connection.off('ready', this.kick);
    connection.off('moved', this.deps.onMoved);
    // The 'error' listener stays: ioredis prints errors nobody listens to, and quitting may still raise one.
    for (const [sub, p] of this.pending) p.waiter?.reject(unavailable(`Cannot subscribe to "${sub.channel}": the bus is closing.`, undefined));
    this.pending.clear();
    this.subs.clear();
    await connection.quit().catch(() => undefined);
    connection.disconnect();
  }

  private take(sub: Subscription, pending: Pending): void {
    this.subs.set(sub.topic, sub);
    this.deps.feeds.hold(sub);
    this.pending.set(sub, pending);
    this.kick();
  }

  private readonly onMessage = (topic: Buffer, message: Buffer): void => {
    if (this.canary?.carries(topic)) {
      if (this.canary.arrived(Number(message.toString()))) this.deps.logger.info({ shard: this.key }, 'canaries come back again through the Redis shard subscriber connection');
      return;
    }
    const sub = this.subs.get(topic.toString());
    if (sub) this.deps.feeds.live(sub, message); // else a topic that just left this shard
  };

  /** Logged once per distinct message: a dead master makes ioredis report the same refusal on every retry. */
  private lastError?: string;
  private readonly onError = (err: Error): void => {
    if (this.closed || err.message === this.lastError) return;
    this.lastError = err.message;
    this.deps.logger.warn({ shard: this.key, err: err.message }, 'redis shard connection error');
  };

  private readonly onDrop = (): void => {
    if (this.closed) return;
    this.generation++;
    this.clearRetry();
    // First subscribes in flight fail now rather than wait for a reconnect: the client retries.
    for (const [sub, p] of this.pending) {
      if (!p.waiter) continue;
      this.pending.delete(sub);
      this.subs.delete(sub.topic);
      p.waiter.reject(unavailable(`Cannot subscribe to "${sub.channel}": its Redis shard ${this.key} is unreachable.`, undefined));
    }
    if (this.fresh) return; // nothing was subscribed on this connection yet
    this.fresh = true;
    if (this.canary) this.canary.subscribed = false;
    if (this.subs.size > 0) this.deps.logger.warn({ shard: this.key, channels: this.subs.size }, 'Redis shard subscriber connection lost; will resubscribe and backfill');
    for (const sub of this.subs.values()) {
      const before = this.pending.get(sub);
      this.deps.feeds.hold(sub);
      this.pending.set(sub, { restarted: before?.restarted === true ? true : 'check' });
    }
  };

  /** Runs the subscribe loop when there is work and the connection is ready. */
  private readonly kick = (): void => {
    if (this.running || this.closed || this.deps.connection.status !== 'ready') return;
    if (this.pending.size === 0 && !this.canaryWaits()) return;
    void this.run();
  };

  private async run(): Promise<void> {
    this.running = true;
    const generation = this.generation;
    const current = () => generation === this.generation && !this.closed;
    const { connection, feeds, logger } = this.deps;
    let batch: Array<[Subscription, Pending]> = [];
    try {
      if (this.fresh) {
        const identity = await serverIdentity(connection);
        if (!current()) return this.abandon(batch);
        const restarted = lostHistory(this.identity, identity);
        for (const [sub, p] of this.pending) if (p.restarted === 'check') this.pending.set(sub, { ...p, restarted });
        this.identity = identity;
        this.fresh = false;
      }
      batch = [...this.pending];
      this.pending.clear();
      const topics = batch.map(([sub]) => sub.topic);
      const canaryTopic = this.canaryWaits() ? this.canary!.topic : undefined;
      // One SSUBSCRIBE per channel (each has its own slot), pipelined: ioredis writes them back to back.
      await Promise.all([...topics, ...(canaryTopic ? [canaryTopic] : [])].map((t) => connection.ssubscribe(t)));
      if (!current()) return this.abandon(batch);
      if (canaryTopic && canaryTopic === this.canary!.topic) this.canary!.subscribed = true;
      let backfilled = 0;
      const resubscribed = batch.filter(([, p]) => !p.waiter).length;
      for (const [sub, p] of batch) {
        if (!this.has(sub)) {
          p.waiter?.reject(unavailable(`Cannot subscribe to "${sub.channel}": its slot moved during the subscribe; retry.`, undefined));
          continue;
        }
        backfilled += await feeds.catchUp(sub, p.restarted === true, () => current() && this.has(sub), !p.waiter);
        if (!current()) return this.abandon(batch);
        p.waiter?.resolve();
        p.waiter = undefined;
      }
      if (resubscribed > 0) {
        this.deps.metrics?.busReconnects.inc();
        logger.info({ shard: this.key, channels: resubscribed, backfilled }, 'Redis shard subscriber resubscribed and caught up');
      }
      batch = [];
    } catch (err) {
      if (!current()) return this.abandon(batch);
      // First subscribes fail (the client retries); the others wait for the next round.
      for (const [sub, p] of batch) {
        if (p.waiter) {
          if (this.has(sub)) this.subs.delete(sub.topic);
          p.waiter.reject(unavailable(`Cannot subscribe to "${sub.channel}": its Redis shard ${this.key} did not confirm.`, err));
        } else if (this.has(sub) && !this.pending.has(sub)) this.pending.set(sub, p);
      }
      if (/^MOVED /.test((err as Error)?.message ?? '')) this.deps.onMoved();
      logger.warn({ err, shard: this.key }, 'shard resubscribe or backfill failed; retrying');
      this.clearRetry();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, RECOVERY_RETRY_MS).unref();
    } finally {
      this.running = false;
      // Work that arrived during the run (a subscribe, a moved channel) starts the next round; a drop waits for `ready`.
      if (current() && this.retryTimer === undefined) setImmediate(this.kick);
    }
  }

  private canaryWaits(): boolean {
    return this.canary?.topic !== undefined && !this.canary.subscribed;
  }

  /** A drop overtook this round: its first subscribes fail (the others were put back into `pending` by the drop). */
  private abandon(batch: Array<[Subscription, Pending]>): void {
    for (const [sub, p] of batch) {
      if (!p.waiter) continue;
      if (this.has(sub)) this.subs.delete(sub.topic);
      this.pending.delete(sub);
      p.waiter.reject(unavailable(`Cannot subscribe to "${sub.channel}": its Redis shard ${this.key} connection dropped.`, undefined));
      p.waiter = undefined;
    }
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
