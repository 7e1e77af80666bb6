import { once } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { openConnections, type RedisConnections } from '../../services/engine/redis/connections.js';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import type { Config } from '../../services/runtime/config/schema.js';
import { EngineMetrics } from '../../services/engine/engine-metrics.js';
import type { RedisClusterHandle } from '../../tools/redis-cluster.js';
import type { RedisSentinelHandle } from '../../tools/redis-sentinel.js';
import { eventually, sinkLogger } from './recorder.js';

/** The environment that points the services at a test cluster (its seeds: every node). */
export function clusterEnv(cluster: Pick<RedisClusterHandle, 'seeds' | 'password'>): Record<string, string> {
  return {
    REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
    ...(cluster.password ? { REDIS_PASSWORD: cluster.password } : {}),
  };
}

/** The environment that points the services at a test Sentinel deployment. */
export function sentinelEnv(sentinel: Pick<RedisSentinelHandle, 'sentinels' | 'name' | 'password' | 'sentinelPassword'>): Record<string, string> {
  return {
    REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    REDIS_SENTINEL_MASTER: sentinel.name,
    ...(sentinel.password ? { REDIS_PASSWORD: sentinel.password } : {}),
    ...(sentinel.sentinelPassword ? { REDIS_SENTINEL_PASSWORD: sentinel.sentinelPassword } : {}),
  };
}

export interface TopologyBus {
  bus: RedisBus;
  connections: RedisConnections;
  config: Config;
  logger: Logger;
  lines: Array<{ level: number; msg: string }>;
  metrics: EngineMetrics;
  cleanup(): Promise<void>;
}

/**
 * A RedisBus on whatever `env` names, built the way the engine builds it
 * (connections.ts), ready when it returns (with `subscribe`: every shard's
 * pub/sub connection up). The test, as creator, closes it.
 */
export async function topologyBus(env: Record<string, string>, overrides: Partial<Config> = {}, options: { subscribe?: boolean } = {}): Promise<TopologyBus> {
  const config = { ...loadConfig({ CANARY_INTERVAL_SECONDS: '0', ...env }), ...overrides };
  const subscribe = options.subscribe !== false;
  const connections = openConnections(config, { subscribe });
  const { commands, subscriber, deployment } = connections;
  // An unhandled 'error' event would crash the test process while a node is deliberately down.
  (commands as Redis).on('error', () => {});
  subscriber?.on('error', () => {});
  await Promise.all([ready(commands), subscriber && ready(subscriber)]);
  const { logger, lines } = sinkLogger();
  const metrics = new EngineMetrics(new Registry(), { subscribe, webhooks: false });
  const bus = new RedisBus({
    config,
    logger,
    metrics,
    redis: commands,
    subscriber,
    sharded: deployment === 'cluster' ? { openNode: subscribe ? connections.openNode : undefined } : undefined,
  });
  await eventually(() => bus.health().ok, `the bus on ${connections.where} is ready`, 20_000);
  return {
    bus,
    connections,
    config,
    logger,
    lines,
    metrics,
    async cleanup() {
      connections.release?.();
      await bus.close();
      subscriber?.disconnect();
      commands.disconnect();
    },
  };
}

export async function ready(client: Redis | Cluster): Promise<void> {
  if (client.status !== 'ready') await once(client as Redis, 'ready');
}

/** A fresh channel whose slot `masterPort` owns (a test aimed at one shard). */
export async function channelOn(cluster: Pick<RedisClusterHandle, 'nodes'>, masterPort: number, label = 'c'): Promise<string> {
  const { channelSlot } = await import('../../services/engine/redis/cluster/slots.js');
  const { freshChannel } = await import('./recorder.js');
  const owner = (await cluster.nodes()).find((n) => n.port === masterPort && n.role === 'master');
  if (!owner) throw new Error(`channelOn: ${masterPort} is not a master`);
  for (;;) {
    const channel = freshChannel(label);
    const slot = channelSlot(channel);
    if (owner.slots.some(([a, b]) => slot >= a && slot <= b)) return channel;
  }
}

/** The running masters' ports, by port. */
export async function masterPorts(cluster: Pick<RedisClusterHandle, 'nodes'>): Promise<number[]> {
  return (await cluster.nodes()).filter((n) => n.role === 'master' && n.running && !n.failed && n.slots.length > 0).map((n) => n.port).sort();
}
