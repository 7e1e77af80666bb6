import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { Bus } from '../../services/engine/bus.js';
import { Control } from '../../services/engine/control.js';
import type { Engine } from '../../services/engine/engine.js';
import { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { MemoryChannels } from '../../services/engine/memory/memory-channels.js';
import { MemoryPresence } from '../../services/engine/memory/memory-presence.js';
import type { RateLimiter } from '../../services/engine/rate-limiter.js';

type BusEngine = Pick<Engine, 'bus' | 'health' | 'publishRateLimiter'>;
type MemoryBusEngine = BusEngine & Pick<Engine, 'presence' | 'channels' | 'control'>;

/**
 * An engine around a bus a test built or wrapped itself (to simulate failures); readiness follows the bus.
 * On a MemoryBus (or a wrapper inheriting from one), presence, channels and control are its broker's, built
 * as createMemoryEngine builds them, so that an app reading them (the source-server's server API) works.
 */
export function engineOf(bus: MemoryBus, publishRateLimiter?: RateLimiter): MemoryBusEngine;
export function engineOf(bus: Bus, publishRateLimiter?: RateLimiter): BusEngine;
export function engineOf(bus: Bus, publishRateLimiter?: RateLimiter): BusEngine | MemoryBusEngine {
  const engine: BusEngine = { bus, publishRateLimiter, health: () => bus.health() };
  if (!(bus instanceof MemoryBus)) return engine;
  const replica = randomUUID();
  return {
    ...engine,
    presence: new MemoryPresence(bus.broker, replica, bus, () => false),
    channels: new MemoryChannels(bus.broker, replica, () => false),
    control: new Control(bus, pino({ level: 'silent' })),
  };
}
