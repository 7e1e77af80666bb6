import { redisMode } from '../runtime/config/redis-config.js';
import type { CreateEngineDeps, Engine, EngineConfig, EngineOptions } from './engine.js';
import { EngineMetrics } from './engine-metrics.js';
import { createMemoryEngine } from './memory/memory-engine.js';
import { createRedisEngine } from './redis/redis-engine.js';

/**
 * The one place that picks the broker from configuration: Redis when
 * REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set (loadConfig
 * allows only one), else in-memory (only the embedded mode allows that: see
 * `engineProblems`). The engine's families are registered on
 * `deps.registry`, those of a subscription only when it subscribes.
 */
export function createEngine(deps: CreateEngineDeps, options: EngineOptions): Engine {
  const { registry, ...rest } = deps;
  const metrics = registry && new EngineMetrics(registry, { subscribe: options.subscribe, webhooks: deps.config.webhookUrls.length > 0 });
  return redisMode(deps.config) === 'none' ? createMemoryEngine({ ...rest, metrics }) : createRedisEngine({ ...rest, metrics }, options);
}

/**
 * What a main.ts calls: the engine, once it has checked what it is connected
 * to. Rejects (after closing it) when Redis is not the deployment the
 * configuration describes, e.g. REDIS_URL pointed at a Cluster node, so that
 * the process stops at start with the fix in the message; a Redis that is
 * merely down does not stop the start (readiness says so).
 */
export async function openEngine(deps: CreateEngineDeps, options: EngineOptions): Promise<Engine> {
  const engine = createEngine(deps, options);
  const verify = (engine as Partial<{ verify(): Promise<void> }>).verify;
  try {
    await verify?.call(engine);
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  }
  return engine;
}

/** Why a process that must share its broker with other processes cannot start on this configuration. */
export function engineProblems(config: Pick<EngineConfig, 'redisUrl' | 'redisSentinels' | 'redisClusterNodes'>, service: string): string[] {
  if (redisMode(config) !== 'none') return [];
  return [
    `${service} needs Redis: REDIS_URL (e.g. redis://localhost:6379), REDIS_SENTINELS with REDIS_SENTINEL_MASTER, or REDIS_CLUSTER_NODES; only the embedded mode (npm start) runs without Redis`,
  ];
}
