import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../runtime/config/schema.js';
import { masters } from './cluster/slots.js';
import type { RedisClient, RedisDeployment } from './connections.js';

/**
 * How long start-up waits to learn what Redis is: a Redis that is down at
 * start must not stop the process (it starts unready, as after any outage),
 * but one that is up answers well within this.
 */
export const STARTUP_CHECK_MS = 5000;

export interface TopologyCheckDeps {
  redis: RedisClient;
  deployment: RedisDeployment;
  config: Pick<Config, 'redisWaitReplicas'>;
  logger: Logger;
}

/**
 * Checks, whenever the command client becomes ready, that Redis is the
 * deployment the configuration says: REDIS_URL (or the primary Sentinel
 * names) must not be a Cluster node, where every channel of another node's
 * slots would fail with MOVED while readiness stayed green; REDIS_CLUSTER_NODES
 * must be Cluster nodes. A mismatch stops the start (`verified` rejects) and,
 * found later, keeps readiness 503 with the fix in the reason. It also warns
 * when REDIS_WAIT_REPLICAS asks for more replicas than a shard has.
 */
export class TopologyCheck {
  private wrong?: string;
  private settled = false;
  private resolveVerified!: () => void;
  private rejectVerified!: (err: Error) => void;
  private readonly verifiedPromise: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly deps: TopologyCheckDeps) {
    this.verifiedPromise = new Promise((resolve, reject) => {
      this.resolveVerified = resolve;
      this.rejectVerified = reject;
    });
    // Nobody may await it (tests that never call verify): no unhandled rejection.
    this.verifiedPromise.catch(() => undefined);
    this.timer = setTimeout(() => {
      if (!this.settled) deps.logger.warn({ deployment: deps.deployment }, `Redis did not answer within ${STARTUP_CHECK_MS} ms; starting unready`);
      this.settle();
    }, STARTUP_CHECK_MS).unref();
    deps.redis.on('ready', this.onReady);
    if (deps.redis.status === 'ready') this.onReady();
    if (deps.deployment === 'cluster') deps.redis.on('error', this.onClusterError);
  }

  /** Resolves once checked (or after STARTUP_CHECK_MS without an answer); rejects when Redis is not what the configuration says. */
  verified(): Promise<void> {
    return this.verifiedPromise;
  }

  /** The misconfiguration found, as readiness reports it. */
  problem(): string | undefined {
    return this.wrong;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.deps.redis.off('ready', this.onReady);
    this.deps.redis.off('error', this.onClusterError);
    this.settle();
  }

  private settle(error?: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    if (error) this.rejectVerified(error);
    else this.resolveVerified();
  }

  private fail(message: string): void {
    this.wrong = message;
    this.deps.logger.error(message);
    this.settle(new Error(message));
  }

  private readonly onReady = (): void => {
    void this.inspect().then(
      () => this.settle(),
      (err: unknown) => {
        // Redis went away again before answering: the next `ready` checks again.
        this.deps.logger.debug({ err }, 'topology check did not complete');
      },
    );
  };

  private async inspect(): Promise<void> {
    if (this.closed) return;
    const { deployment, config, logger } = this.deps;
    if (deployment === 'cluster') {
      const cluster = this.deps.redis as Cluster;
      const owned = masters(cluster);
      let fewest = Infinity;
      let thinnest = '';
      for (let slot = 0; slot < cluster.slots.length; slot++) {
        const nodes = cluster.slots[slot];
        if (nodes && nodes.length - 1 < fewest) {
          fewest = nodes.length - 1;
          thinnest = nodes[0]!;
        }
      }
      if (config.redisWaitReplicas > 0 && fewest < config.redisWaitReplicas) {
        logger.warn({ shard: thinnest, replicas: fewest, masters: owned.size }, `REDIS_WAIT_REPLICAS=${config.redisWaitReplicas} but Redis shard ${thinnest} has ${fewest} replicas: its publishes will answer 503 until it has more`);
      }
      return;
    }
    const redis = this.deps.redis as Redis;
    const info = String(await redis.call('INFO', 'cluster', 'replication'));
    if (/^cluster_enabled:1/m.test(info)) {
      const variable = deployment === 'sentinel' ? 'REDIS_SENTINELS' : 'REDIS_URL';
      this.fail(
        `${variable} points at a Redis Cluster node (cluster_enabled:1): channels on the other nodes' slots would fail with MOVED. ` +
          `Set REDIS_CLUSTER_NODES=host:port,... (some of the cluster's nodes) instead of ${variable}.`,
      );
      return;
    }
    const replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    if (config.redisWaitReplicas > replicas) {
      logger.warn({ replicas }, `REDIS_WAIT_REPLICAS=${config.redisWaitReplicas} but the Redis primary has ${replicas} replicas connected: publishes will answer 503 until it has more`);
    }
  }

  /** A Cluster client pointed at servers without cluster mode never becomes ready; its refresh error says why. */
  private readonly onClusterError = (err: Error & { lastNodeError?: Error }): void => {
    const cause = err.lastNodeError?.message ?? '';
    if (/cluster support disabled/i.test(cause) && this.wrong === undefined) {
      this.fail(
        `REDIS_CLUSTER_NODES points at a Redis without cluster mode (${cause}). ` +
          'Use REDIS_URL for one Redis, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER for Sentinel.',
      );
    }
  };
}
