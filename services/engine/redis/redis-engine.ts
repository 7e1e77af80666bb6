import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Cluster } from 'ioredis';
import { Control } from '../control.js';
import type { Engine, EngineDeps, EngineOptions } from '../engine.js';
import { transitionJson } from '../outbox.js';
import { publishRateLimitOptions } from '../rate-limiter.js';
import { RedisChannels } from './channels.js';
import { startWebhooks } from '../webhooks/dispatcher.js';
import { webhookChannels } from '../webhooks/routes.js';
import { RedisConnectionCounter } from './connection-counter.js';
import { ConnectionState, withCause } from './connection-state.js';
import { openConnections } from './connections.js';
import { outboxKey } from './keys.js';
import { RedisLiveness } from './liveness.js';
import { markOutbox } from './outbox-mark.js';
import { RedisPresence } from './presence.js';
import { RedisBus } from './redis-bus.js';
import { RedisRateLimiter } from './rate-limiter.js';
import { TopologyCheck } from './topology-check.js';
import { RedisOutboxStore } from './webhook-outbox.js';

/** A RedisEngine can also stop as a killed process would, for tests of what others then clean up. */
export interface RedisEngine extends Engine {
  readonly kind: 'redis';
  /** Stops heartbeats and drops the connections without leaving or vacating anything. */
  crash(): Promise<void>;
  /** Resolves once the engine knows what it is connected to (or gave up waiting for Redis); rejects on a deployment the configuration does not describe. */
  verify(): Promise<void>;
}

/**
 * The engine on Redis, in the mode the configuration names (connections.ts):
 * a command client shared by the bus, presence, occupancy, the rate limiter
 * and the connection counter, and, for a process that receives events, the
 * pub/sub side (one connection on one server; one per master on a Cluster,
 * opened by the bus). It creates the connections, so it closes them.
 */
export function createRedisEngine(deps: EngineDeps, options: EngineOptions): RedisEngine {
  const { config, logger, metrics } = deps;
  const log = logger.child({ component: 'redis' });
  const replicaId = randomUUID();
  const connections = openConnections(config, options);
  const { commands: redis, subscriber, deployment } = connections;
  const sharded = deployment === 'cluster';
  const state = new ConnectionState(log);
  for (const [role, client] of [['commands', redis], ['pubsub', subscriber]] as const) {
    // Redis and Cluster both are emitters; their overloads do not unite.
    if (client) state.watch(role, client as EventEmitter, { deployment, where: connections.where });
  }
  if (sharded) (redis as Cluster).on('node error', (err: Error, node: string) => log.debug({ node, err: err.message }, 'redis cluster node error'));
  const check = new TopologyCheck({ redis, deployment, config, logger: log });
  const webhooks = webhookChannels(config);
  const bus = new RedisBus({ config, logger, metrics, redis, subscriber, sharded: sharded ? { openNode: options.subscribe ? connections.openNode : undefined } : undefined });
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
  const presence = new RedisPresence({ redis, replica: replicaId, webhooks, now: deps.now, registered, publishCommand: sharded ? 'SPUBLISH' : 'PUBLISH' });
  const channels = new RedisChannels({
    redis,
    replica: replicaId,
    webhooks,
    registered,
    statsIntervalMs: config.statsIntervalSeconds * 1000,
    now: deps.now,
    onError: (err) => log.debug({ err }, 'subscriber counts not written; retrying at the next interval'),
  });
  const connectionCounter =
    options.subscribe && config.maxConnectionsPerIp > 0
      ? new RedisConnectionCounter({
          redis,
          replica: replicaId,
          leaseMs: config.presenceTtlSeconds * 1000,
          onError: (err) => log.debug({ err }, 'connection count not written; healed at the next renewal'),
        })
      : undefined;
  const control = new Control(bus, logger);
  // Every replica drains webhook outboxes (a dead client-server's owed webhooks are sent by the others).
  const dispatcher = startWebhooks({ config, logger, metrics }, () => new RedisOutboxStore(redis));
  const disconnect = () => {
    redis.disconnect();
    subscriber?.disconnect();
  };
  const stop = () => {
    connections.release?.();
    liveness.stop();
    channels.close();
    connectionCounter?.close();
    check.close();
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
    connectionCounter,
    health: () => {
      const problem = check.problem();
      const health = problem === undefined ? bus.health() : { ok: false, reason: problem };
      return health.ok ? health : { ok: false, reason: withCause(health.reason ?? 'Redis is not ready', state.cause()) };
    },
    verify: () => check.verified(),
    async close() {
      await dispatcher?.close();
      stop();
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
      stop();
      await bus.close();
      disconnect();
    },
  };
}
