import type { Engine, EngineDeps } from '../engine.js';
import { publishRateLimitOptions } from '../rate-limiter.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';

/** An Engine whose bus is known to be the in-memory one (tests reach into it). */
export type MemoryEngine = Engine & { readonly kind: 'memory'; readonly bus: MemoryBus };

/** The broker inside one process (embedded mode, fast tests): the same semantics, nothing survives the process. */
export function createMemoryEngine(deps: EngineDeps): MemoryEngine {
  const { config, logger, now } = deps;
  const bus = new MemoryBus({ config, logger, now });
  return {
    kind: 'memory',
    bus,
    publishRateLimiter: config.publishRateLimit > 0 ? new MemoryRateLimiter(publishRateLimitOptions(config), now) : undefined,
    health: () => bus.health(),
    close: () => bus.close(),
  };
}
