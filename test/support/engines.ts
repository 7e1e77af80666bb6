import type { Bus } from '../../services/engine/bus.js';
import type { Engine } from '../../services/engine/engine.js';
import type { RateLimiter } from '../../services/engine/rate-limiter.js';

/** An engine around a bus a test built or wrapped itself (to simulate failures); readiness follows the bus. */
export function engineOf(bus: Bus, publishRateLimiter?: RateLimiter): Pick<Engine, 'bus' | 'health' | 'publishRateLimiter'> {
  return { bus, publishRateLimiter, health: () => bus.health() };
}
