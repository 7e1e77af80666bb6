import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Control } from '../control.js';
import { redactUrl } from '../../runtime/logger.js';
import type { Engine, EngineDeps, EngineOptions } from '../engine.js';
import { publishRateLimitOptions } from '../rate-limiter.js';
import { redisClientOptions } from './options.js';
import { RedisBus } from './redis-bus.js';
import { RedisRateLimiter } from './rate-limiter.js';

/**
 * The engine on one standalone Redis (REDIS_URL): a command connection shared
 * by the bus and the rate limiter, and, for a process that receives events,
 * a second connection for pub/sub. It creates them, so it closes them.
 */
export function createRedisEngine(deps: EngineDeps & { config: { redisUrl: string } }, options: EngineOptions): Engine {
  const { config, logger, metrics } = deps;
  const log = logger.child({ component: 'redis' });
  const redis = new Redis(config.redisUrl, { ...redisClientOptions(config), connectionName: 'eventrelay-commands' });
  const subscriber = options.subscribe ? redis.duplicate({ connectionName: 'eventrelay-pubsub' }) : undefined;
  for (const [role, connection] of [['commands', redis], ['pubsub', subscriber]] as const) {
    if (!connection) continue;
    connection.on('error', (err: Error) => log.warn({ role, err: err.message }, 'redis connection error'));
    connection.on('ready', () => log.info({ role, url: redactUrl(config.redisUrl) }, 'redis connection ready'));
  }
  const bus = new RedisBus({ config, logger, metrics, redis, subscriber });
  const control = new Control(bus, logger);
  return {
    kind: 'redis',
    replicaId: randomUUID(),
    bus,
    control,
    // WIP (issue 10): the Redis presence and occupancy are being built (engine/redis/presence.ts, channels.ts).
    presence: notYet('presence'),
    // Until then occupancy is not recorded, but subscribes (which occupy and vacate on every first and last subscriber) work.
    channels: notYet('channels', ['occupy', 'vacate', 'report']),
    publishRateLimiter: config.publishRateLimit > 0 ? new RedisRateLimiter(redis, publishRateLimitOptions(config)) : undefined,
    health: () => bus.health(),
    async close() {
      await control.stop();
      await bus.close();
      await Promise.allSettled([redis.quit(), subscriber?.quit()]);
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}

function notYet<T extends object>(what: string, noOps: string[] = ['report']): T {
  return new Proxy({} as T, {
    get: (_target, prop) => {
      if (prop === 'report') return () => {};
      if (typeof prop === 'string' && noOps.includes(prop)) return async () => {};
      return async () => {
        throw new Error(`Redis ${what} is not built yet`);
      };
    },
  });
}
