import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../../tools/redis-sentinel.js';
import type { Running } from './fault-scenario.js';
import { sleep } from './fault-scenario.js';
import { startServices, type Services } from './local-stack.js';
import { clusterEnv, sentinelEnv } from './redis-topologies.js';

/**
 * Stacks for the fault scenarios on Redis deployments with replicas: the
 * services (one source-server, two client-servers, from the build) on a
 * 3-master Cluster or behind Sentinel. Before they stop, they read back
 * what Redis still holds of each channel, so that a scenario can tell
 * events lost by a failover from events lost in delivery.
 */
export interface HaStack extends Services {
  /** Each channel's stream ids, read when the stack stopped (set by `stop`). */
  readonly stored: Map<string, Set<string>>;
  /** The channels whose streams `stop` reads back. */
  watch(channels: string[]): void;
}

export interface ClusterStack extends HaStack {
  readonly cluster: RedisClusterHandle;
}

export interface SentinelStack extends HaStack {
  readonly sentinel: RedisSentinelHandle;
}

export async function startClusterStack(env: Record<string, string>): Promise<ClusterStack> {
  const cluster = await startRedisCluster();
  const reader = () => new Cluster(cluster.seeds.map((s) => ({ ...s })), { redisOptions: { protocol: 2 } });
  return withServices(clusterEnv(cluster), env, reader, () => cluster.stop(), { cluster });
}

export async function startSentinelStack(env: Record<string, string>): Promise<SentinelStack> {
  const sentinel = await startRedisSentinel();
  const reader = () => new Redis({ sentinels: sentinel.sentinels.map((s) => ({ ...s })), name: sentinel.name, protocol: 2 });
  return withServices(sentinelEnv(sentinel), env, reader, () => sentinel.stop(), { sentinel });
}

async function withServices<T extends object>(
  redisEnv: Record<string, string>,
  env: Record<string, string>,
  reader: () => Redis | Cluster,
  stopRedis: () => Promise<void>,
  extra: T,
): Promise<HaStack & T> {
  let services: Services;
  try {
    services = await startServices({ ...redisEnv, ...env });
  } catch (err) {
    await stopRedis();
    throw err;
  }
  const stored = new Map<string, Set<string>>();
  let watched: string[] = [];
  return {
    ...services,
    ...extra,
    stored,
    watch(channels) {
      watched = channels;
    },
    async stop() {
      await services.stop();
      const client = reader();
      client.on('error', () => {});
      try {
        for (const channel of watched) {
          const entries = (await client.xrange(`er:{${channel}}:s`, '-', '+')) as [string, string[]][];
          stored.set(channel, new Set(entries.map(([id]) => id)));
        }
      } finally {
        client.disconnect();
        await stopRedis();
      }
    },
  };
}

/** Publish attempts answered 503, over every publisher. */
export function unavailableCount(r: Pick<Running<Services>, 'publishers'>): number {
  return r.publishers.reduce((n, p) => n + (p.statuses.get(503) ?? 0), 0);
}

/** Events answered 200 that the stack's Redis no longer held when it stopped. */
export function replicationLost(r: Pick<Running<HaStack>, 'publishers' | 'stack'>): number {
  return r.publishers.reduce((n, p) => n + p.acknowledged.filter((id) => !r.stack.stored.get(p.channel)?.has(id)).length, 0);
}

/**
 * Starts timing a fault: resolves the ms until every service answers
 * /readyz 200 and every publisher was acknowledged within the last
 * RECENT_MS (at 10 events/s a healthy channel is acknowledged ~3 times in
 * it), polled every 100 ms and bounded by `maxMs`.
 */
const RECENT_MS = 300;
export function recovery(r: Running<Services>, maxMs = 30_000): Promise<number> {
  const started = Date.now();
  const counts = () => r.publishers.map((p) => p.acknowledged.length);
  const urls = [r.stack.sourceUrl, ...r.stack.clientUrls];
  return (async () => {
    let previous = counts();
    let previousAt = Date.now();
    // The fault takes effect first: ready and flowing right at the start proves nothing.
    await sleep(200);
    while (Date.now() - started < maxMs) {
      await sleep(100);
      const now = counts();
      const flowing = now.every((n, i) => n > previous[i]!);
      if (Date.now() - previousAt >= RECENT_MS) {
        previous = now;
        previousAt = Date.now();
      }
      if (!flowing) continue;
      const states = await Promise.all(urls.map((u) => fetch(`${u}/readyz`, { signal: AbortSignal.timeout(2000) }).then((res) => res.status, () => 0)));
      if (states.every((s) => s === 200)) return Date.now() - started;
    }
    return Date.now() - started;
  })();
}
