import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { redactUrl } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Bus } from './bus.js';
import { MemoryBus } from './memory-bus.js';
import { RedisBus } from './redis-bus.js';
import { redisClientOptions } from './redis-options.js';

export interface CreatedBus {
  bus: Bus;
  kind: 'redis' | 'memory';
  /**
   * The command connection (Redis only), for siblings that count in the same
   * Redis, like the publish rate limiter. They use it; `close()` closes it.
   */
  redis?: Redis;
  /** Closes the bus, then the connections this function opened (whoever creates a resource closes it). */
  close(): Promise<void>;
}

/**
 * The one place that picks the bus from configuration: Redis when REDIS_URL
 * is set, else in-memory (only the embedded mode allows that).
 * `subscribe`: whether this process receives events (a client-server), and
 * so needs a second, pub/sub connection.
 */
export function createBus(deps: { config: Config; logger: Logger; metrics?: Metrics }, subscribe: boolean): CreatedBus {
  const { config, logger, metrics } = deps;
  if (!config.redisUrl) {
    const bus = new MemoryBus({ config, logger });
    return { bus, kind: 'memory', close: () => bus.close() };
  }
  const log = logger.child({ component: 'redis' });
  const redis = new Redis(config.redisUrl, { ...redisClientOptions(config), connectionName: 'eventrelay-commands' });
  const subscriber = subscribe ? redis.duplicate({ connectionName: 'eventrelay-pubsub' }) : undefined;
  for (const [role, connection] of [['commands', redis], ['pubsub', subscriber]] as const) {
    if (!connection) continue;
    connection.on('error', (err: Error) => log.warn({ role, err: err.message }, 'redis connection error'));
    connection.on('ready', () => log.info({ role, url: redactUrl(config.redisUrl!) }, 'redis connection ready'));
  }
  const bus = new RedisBus({ config, logger, metrics, redis, subscriber });
  return {
    bus,
    kind: 'redis',
    redis,
    async close() {
      await bus.close();
      await Promise.allSettled([redis.quit(), subscriber?.quit()]);
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}
