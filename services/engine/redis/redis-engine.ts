import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactUrl } from '../../runtime/logger.js';
import { Control } from '../control.js';
import type { Engine, EngineDeps, EngineOptions } from '../engine.js';
import { transitionJson } from '../outbox.js';
import { publishRateLimitOptions } from '../rate-limiter.js';
import { RedisChannels } from './channels.js';
import { outboxKey } from './keys.js';
import { RedisLiveness } from './liveness.js';
import { markOutbox } from './outbox-mark.js';
import { redisClientOptions } from './options.js';
import { RedisPresence } from './presence.js';
import { RedisBus } from './redis-bus.js';
import { RedisRateLimiter } from './rate-limiter.js';
import { startWebhooks } from '../webhooks/dispatcher.js';
import { webhookChannels } from '../webhooks/routes.js';
import { RedisOutboxStore } from './webhook-outbox.js';

/** A RedisEngine can also stop as a killed process would, for tests of what others then clean up. */
export interface RedisEngine extends Engine {
  readonly kind: 'redis';
  /** Stops heartbeats and drops the connections without leaving or vacating anything. */
  crash(): Promise<void>;
}

/**
 * The engine on one standalone Redis (REDIS_URL): a command connection shared
 * by the bus, presence, occupancy and the rate limiter, and, for a process
 * that receives events, a second connection for pub/sub. It creates them, so
 * it closes them.
 */
export function createRedisEngine(deps: EngineDeps & { config: { redisUrl: string } }, options: EngineOptions): RedisEngine {
  const { config, logger, metrics } = deps;
  const log = logger.child({ component: 'redis' });
  const replicaId = randomUUID();
  const redis = new Redis(config.redisUrl, { ...redisClientOptions(config), connectionName: 'eventrelay-commands' });
  const subscriber = options.subscribe ? redis.duplicate({ connectionName: 'eventrelay-pubsub' }) : undefined;
  for (const [role, connection] of [['commands', redis], ['pubsub', subscriber]] as const) {
    if (!connection) continue;
    connection.on('error', (err: Error) => log.warn({ role, err: err.message }, 'redis connection error'));
    connection.on('ready', () => log.info({ role, url: redactUrl(config.redisUrl) }, 'redis connection ready'));
  }
  const webhooks = webhookChannels(config);
  const bus = new RedisBus({ config, logger, metrics, redis, subscriber });
  // Only client-servers hold presence and occupancy, but every replica sweeps up after dead ones.
  // Its callbacks run only after its first heartbeat, when presence and channels below exist.
  const liveness = new RedisLiveness({
    redis,
    replica: replicaId,
    logger: log,
    ttlMs: config.presenceTtlSeconds * 1000,
    async expire(replica, channel) {
      await presence.expireReplica(replica, channel);
      await channels.expireReplica(replica, channel);
    },
    async revived() {
      await channels.reassert();
      await presence.reassert();
    },
  });
  const registered = () => liveness.registered();
  const presence = new RedisPresence({ redis, replica: replicaId, webhooks, now: deps.now, registered });
  const channels = new RedisChannels({
    redis,
    replica: replicaId,
    webhooks,
    registered,
    statsIntervalMs: config.statsIntervalSeconds * 1000,
    now: deps.now,
    onError: (err) => log.debug({ err }, 'subscriber counts not written; retrying at the next interval'),
  });
  const control = new Control(bus, logger);
  // Every replica drains webhook outboxes (a dead client-server's owed webhooks are sent by the others).
  const dispatcher = startWebhooks({ config, logger, metrics }, () => new RedisOutboxStore(redis));
  const disconnect = () => {
    redis.disconnect();
    subscriber?.disconnect();
  };
  return {
    kind: 'redis',
    replicaId,
    bus,
    presence,
    channels,
    control,
    publishRateLimiter: config.publishRateLimit > 0 ? new RedisRateLimiter(redis, publishRateLimitOptions(config)) : undefined,
    async noteCacheMiss(channel) {
      if (!webhooks(channel)) return;
      // Marked before and after the append, as every outbox writer does (outbox-mark.ts).
      const time = deps.now?.() ?? Date.now();
      await markOutbox(redis, channel, time);
      await redis.xadd(outboxKey(channel), '*', 'j', transitionJson({ kind: 'cache.miss', channel, time }));
      await markOutbox(redis, channel, time);
    },
    health: () => bus.health(),
    async close() {
      await dispatcher?.close();
      liveness.stop();
      channels.close();
      await control.stop();
      await bus.close();
      // The apps left and vacated everything before this; the last counts are written, then this replica is forgotten.
      await channels.flush().catch(() => undefined);
      await liveness.forget().catch(() => undefined);
      await Promise.allSettled([redis.quit(), subscriber?.quit()]);
      disconnect();
    },
    async crash() {
      await dispatcher?.close();
      liveness.stop();
      channels.close();
      disconnect();
    },
  };
}
