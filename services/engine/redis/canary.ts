import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EngineMetrics as Metrics } from '../engine-metrics.js';

/** Consecutive canaries that may go missing before the subscriber connection is declared dead. */
export const CANARY_MISSES_ALLOWED = 2;

/**
 * The counting of numbered canaries, whatever carries them (one Redis here,
 * one Cluster shard in cluster/shard-canary.ts): a canary Redis confirmed
 * that did not come back on the receiving connection by the next tick is a
 * miss; CANARY_MISSES_ALLOWED misses in a row declare the connection dead; a
 * publish that fails is a problem of its own until one succeeds.
 */
export class CanaryCount {
  private sent = 0;
  /** Sequence number of the newest canary whose publish Redis answered. */
  private confirmed = 0;
  /** Sequence number of the newest canary that came back on the receiving connection. */
  private received = 0;
  private publishing = false;
  private missed = 0;
  private deadNow = false;
  private failure?: string;

  /** `receives`: canaries must also come back (a connection that subscribes), not only be confirmed. */
  constructor(private readonly receives: boolean) {}

  /** Whether the receiving connection missed CANARY_MISSES_ALLOWED canaries in a row (until one comes back). */
  get dead(): boolean {
    return this.deadNow;
  }

  get misses(): number {
    return this.missed;
  }

  /** Why the last publish failed, until one succeeds. */
  get commandProblem(): string | undefined {
    return this.failure;
  }

  /** Forgets what is in flight: the connection is visibly down (its status says so) or the canary moved to another topic. */
  reset(): void {
    this.failure = undefined;
    this.received = this.confirmed = this.sent;
  }

  /**
   * One period. `publish` sends canary `seq`; `onMiss` hears each miss;
   * `onDead` is called when the receiving connection missed too many (it
   * should be destroyed); `onFailure` when a publish fails.
   */
  tick(publish: (seq: number) => Promise<unknown>, onDead: () => void, onMiss: (misses: number) => void, onFailure?: (err: unknown) => void): void {
    // Still waiting for Redis to answer the last one: commandTimeout will fail it.
    if (this.publishing) return;
    if (this.receives && this.confirmed === this.sent && this.received < this.sent) {
      this.missed++;
      onMiss(this.missed);
      if (this.missed >= CANARY_MISSES_ALLOWED) {
        this.deadNow = true;
        this.received = this.confirmed = this.sent;
        onDead();
        return;
      }
    }
    const seq = ++this.sent;
    this.publishing = true;
    publish(seq).then(
      () => {
        this.publishing = false;
        this.confirmed = seq;
        this.failure = undefined;
      },
      (err: unknown) => {
        this.publishing = false;
        // Unconfirmed: its absence on the receiving side proves nothing.
        this.received = this.confirmed = this.sent;
        this.failure = err instanceof Error ? err.message : String(err);
        onFailure?.(err);
      },
    );
  }

  /** A canary came back on the receiving connection. Returns true when the connection had been declared dead. */
  arrived(seq: number): boolean {
    if (!(seq > this.received)) return false;
    this.received = seq;
    this.missed = 0;
    const wasDead = this.deadNow;
    this.deadNow = false;
    return wasDead;
  }
}

export interface RedisCanaryDeps {
  /** Command connection: the canary is PUBLISHed here. */
  redis: Redis;
  /**
   * Pub/sub connection whose liveness is checked; its listeners are removed
   * again by `close()`. Absent (source-server): only the command connection is probed.
   */
  subscriber?: Redis;
  logger: Logger;
  metrics?: Metrics;
  /** Period between canaries, in ms (CANARY_INTERVAL_SECONDS × 1000). */
  intervalMs: number;
}

/**
 * Detects Redis connections that look up but do not work, which ioredis
 * cannot see (no error, no close, status `ready`) and which would otherwise
 * leave readiness green while every event is silently missed
 * (centrifugal/centrifugo#1189):
 * - a pub/sub connection that delivers nothing: a half-open TCP connection
 *   (a NAT or proxy dropped one direction), or a subscription Redis no
 *   longer holds;
 * - a Redis that accepts connections but does not answer (frozen, SIGSTOP,
 *   a network black hole).
 *
 * Every interval it PUBLISHes a numbered canary on a topic private to this
 * process through the command connection. A PUBLISH that fails makes a
 * problem until one succeeds. A canary Redis confirmed but that did not come
 * back on the subscriber connection by the next tick is a miss; after
 * CANARY_MISSES_ALLOWED misses in a row it reports a problem (readiness 503)
 * and destroys the subscriber's socket (`disconnect(true)`): ioredis
 * reconnects, and RedisSubscriber (subscriber.ts) resubscribes and backfills exactly as
 * after any drop.
 */
export class RedisCanary {
  /**
   * Per process, so that several client-servers on one Redis never answer each
   * other's canaries; outside the `er:{<channel>}` names, so no publisher can reach it.
   */
  readonly topic = `er:canary:${randomUUID()}`;
  private readonly topicBuffer = Buffer.from(this.topic);
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  private readonly count: CanaryCount;
  private closed = false;

  constructor(private readonly deps: RedisCanaryDeps) {
    this.logger = deps.logger.child({ component: 'redis-canary' });
    this.count = new CanaryCount(deps.subscriber !== undefined);
    deps.subscriber?.on('messageBuffer', this.onMessage);
    deps.subscriber?.on('ready', this.onReady);
    if (deps.subscriber?.status === 'ready') this.listen();
    this.timer = setInterval(() => this.tick(), deps.intervalMs).unref();
  }

  /** Why Redis cannot be trusted right now, or undefined while canaries go through. */
  problem(): string | undefined {
    const { count } = this;
    if (count.dead) return `the Redis subscriber connection missed ${count.misses} canaries in a row; reconnecting it`;
    if (count.commandProblem) return `Redis did not answer the canary (${count.commandProblem})`;
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const { subscriber } = this.deps;
    if (!subscriber) return;
    subscriber.off('messageBuffer', this.onMessage);
    subscriber.off('ready', this.onReady);
    if (subscriber.status === 'ready') {
      await subscriber.unsubscribe(this.topic).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE of the canary failed'));
    }
  }

  private tick(): void {
    const { redis, subscriber } = this.deps;
    // A connection that is visibly down is already reported by its status and
    // recovers by itself; the canary is about connections that claim to be fine.
    if (this.closed || redis.status !== 'ready' || (subscriber && subscriber.status !== 'ready')) {
      this.count.reset();
      return;
    }
    this.count.tick(
      (seq) => redis.publish(this.topic, String(seq)),
      () => this.reconnect(subscriber!),
      (misses) => this.logger.warn({ misses }, 'a canary did not come back through the Redis subscriber connection'),
      (err) => {
        // A connection that is down has said so once already (connection-state.ts).
        if (this.deps.redis.status === 'ready') this.logger.warn({ err }, 'the canary PUBLISH failed');
        else this.logger.debug({ err }, 'the canary PUBLISH failed: Redis is not ready');
      },
    );
  }

  private reconnect(subscriber: Redis): void {
    this.deps.metrics?.canaryFailures.inc();
    this.logger.error('the Redis subscriber connection delivers nothing; forcing a reconnect, then resubscribe and backfill');
    // Destroys the socket: 'close' makes RedisSubscriber hold live events and backfill on 'ready'.
    subscriber.disconnect(true);
  }

  private readonly onMessage = (topic: Buffer, message: Buffer): void => {
    if (!topic.equals(this.topicBuffer)) return;
    if (this.count.arrived(Number(message.toString()))) this.logger.info('canaries come back again through the Redis subscriber connection');
  };

  private readonly onReady = (): void => {
    if (!this.closed) this.listen();
  };

  /** ioredis re-subscribes by itself after a reconnect too; this makes the first subscribe, and confirms it. */
  private listen(): void {
    this.deps.subscriber?.subscribe(this.topic).catch((err: unknown) => this.logger.warn({ err }, 'cannot subscribe to the canary topic'));
  }
}
