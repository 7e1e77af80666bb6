import type { Engine, EngineConfig, EngineDeps, EngineOptions } from './engine.js';
import { createMemoryEngine } from './memory/memory-engine.js';
import { createRedisEngine } from './redis/redis-engine.js';

/**
 * The one place that picks the broker from configuration: Redis when
 * REDIS_URL is set, else in-memory (only the embedded mode allows that:
 * see `engineProblems`).
 */
export function createEngine(deps: EngineDeps, options: EngineOptions): Engine {
  const { redisUrl } = deps.config;
  return redisUrl ? createRedisEngine({ ...deps, config: { ...deps.config, redisUrl } }, options) : createMemoryEngine(deps);
}

/** Why a process that must share its broker with other processes cannot start on this configuration. */
export function engineProblems(config: Pick<EngineConfig, 'redisUrl'>, service: string): string[] {
  if (config.redisUrl) return [];
  return [`${service} needs REDIS_URL (e.g. redis://localhost:6379); only the embedded mode (npm start) runs without Redis`];
}
