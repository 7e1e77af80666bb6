// Where the targets' Redis comes from. One seam, so that the 1-vs-3-shard
// scaling row of issue #12 plugs in a Redis Cluster here without touching the
// sections: every target is started from a RedisDeployment, never a URL.
import { readdirSync, readFileSync } from 'node:fs';
import { startRedisServer } from '../../tools/redis-server.js';

export type RedisTopology = 'single' | 'cluster';
export const REDIS_TOPOLOGIES: readonly RedisTopology[] = ['single', 'cluster'];

export interface RedisDeployment {
  topology: RedisTopology;
  /** Environment that points eventrelay's processes at it (REDIS_URL today; cluster seed nodes later). */
  env: Record<string, string>;
  /** One URL for the peers (floor, Socket.IO), which speak to a single Redis. */
  url: string;
  /** Every redis-server process, for CPU accounting. */
  pids: number[];
  stop(): Promise<void>;
}

/** A fresh, private Redis of the given topology. */
export async function startRedis(topology: RedisTopology): Promise<RedisDeployment> {
  if (topology === 'cluster') {
    // Issue #12: start N redis-server --cluster-enabled nodes, CLUSTER ADDSLOTS, and hand
    // eventrelay its seed nodes in env; pids are every node's. Until then, refuse clearly.
    throw new Error('--redis cluster is not implemented yet (issue #12); use --redis single');
  }
  const server = await startRedisServer();
  const pid = redisPid(server.port);
  return {
    topology,
    env: { REDIS_URL: server.url },
    url: server.url,
    pids: pid === undefined ? [] : [pid],
    stop: () => server.stop(),
  };
}

/** The pid of the redis-server listening on `port` (it names its port in its process title). */
function redisPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('redis-server') && cmdline.includes(`:${port}`)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
