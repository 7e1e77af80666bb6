import type { CreateEngineDeps, Engine, EngineConfig, EngineOptions } from './engine.js';
import { EngineMetrics } from './engine-metrics.js';
import { createMemoryEngine } from './memory/memory-engine.js';
import { createRedisEngine } from './redis/redis-engine.js';

/**
 * The one place that picks the broker from configuration: Redis when
 * REDIS_URL is set, else in-memory (only the embedded mode allows that:
 * see `engineProblems`). The engine's families are registered on
 * `deps.registry`, those of a subscription only when it subscribes.
 */
export function createEngine(deps: CreateEngineDeps, options: EngineOptions): Engine {
  const { registry, ...rest } = deps;
  const metrics = registry && new EngineMetrics(registry, { subscribe: options.subscribe, webhooks: deps.config.webhookUrls.length > 0 });
  const { redisUrl } = deps.config;
  return redisUrl ? createRedisEngine({ ...rest, metrics, config: { ...deps.config, redisUrl } }, options) : createMemoryEngine({ ...rest, metrics });
}

/** Why a process that must share its broker with other processes cannot start on this configuration. */
export function engineProblems(config: Pick<EngineConfig, 'redisUrl'>, service: string): string[] {
  if (config.redisUrl) return [];
  return [`${service} needs REDIS_URL (e.g. redis://localhost:6379); only the embedded mode (npm start) runs without Redis`];
}
