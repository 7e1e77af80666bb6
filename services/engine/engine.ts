import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RedisConnectionConfig } from '../runtime/config/redis-config.js';
import type { Config } from '../runtime/config/schema.js';
import type { Bus, BusHealth } from './bus.js';
import type { Channels } from './channels.js';
import type { ConnectionCounter } from './connection-counter.js';
import type { Control } from './control.js';
import type { EngineMetrics } from './engine-metrics.js';
import type { Presence } from './presence.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Everything that talks to the broker, built by one `createEngine(config)`:
 * the bus, the publish rate limiter, and whatever else must be shared by
 * every replica. Apps receive an Engine and never see ioredis. The in-memory
 * broker and Redis (standalone, Sentinel or Cluster: redis/connections.ts)
 * are siblings behind it.
 */
export interface Engine {
  /** Which broker: `memory` (one process, nothing survives it) or `redis`. */
  readonly kind: 'memory' | 'redis';
  /** This process's identity on the broker (random per start): presence and occupancy are kept per replica. */
  readonly replicaId: string;
  readonly bus: Bus;
  /** Who is in each channel, on every client-server (presence.ts). */
  readonly presence: Presence;
  /** Which channels have subscribers, and how many, on every client-server (channels.ts). */
  readonly channels: Channels;
  /** Operator commands to every client-server (control.ts). */
  readonly control: Control;
  /** PUBLISH_RATE_LIMIT counted across every replica on the same broker; undefined while the limit is off. */
  readonly publishRateLimiter?: RateLimiter;
  /**
   * Appends a Pusher `cache_miss` of `channel` to its webhook outbox, when a
   * receiver wants the channel's transitions (the one transition the engine
   * does not detect itself: a client-server sees it). Delivered like every
   * other transition: at least once, in order, by any replica.
   */
  noteCacheMiss(channel: string): Promise<void>;
  /** MAX_CONNECTIONS_PER_IP counted across every client-server on the broker; undefined: the process's own count is the deployment's. */
  readonly connectionCounter?: ConnectionCounter;
  /** Whether the engine can serve right now, and why not (readiness). */
  health(): BusHealth;
  /** Closes the bus, then every connection the engine opened (whoever creates a resource closes it). */
  close(): Promise<void>;
}

/** The configuration the engine reads. */
export type EngineConfig = RedisConnectionConfig &
  Pick<
    Config,
    | 'maxConnectionsPerIp'
    | 'historySize'
    | 'historyTtlSeconds'
    | 'idempotencyTtlSeconds'
    | 'redisWaitReplicas'
    | 'redisWaitTimeoutMs'
    | 'canaryIntervalSeconds'
    | 'publishRateLimit'
    | 'publishRateWindowSeconds'
    | 'presenceTtlSeconds'
    | 'statsIntervalSeconds'
    | 'webhookUrls'
    | 'webhookSecret'
    | 'webhookGiveUpSeconds'
  > &
  /** Pusher apps with webhooks: their channels' transitions are recorded and delivered in Pusher's format (engine/webhooks/routes.ts). */
  Partial<Pick<Config, 'pusherApps'>>;

export interface EngineDeps {
  config: EngineConfig;
  logger: Logger;
  /** Where a broker's engine counts (engine-metrics.ts); createEngine builds it on the registry it is given. Absent: counted nowhere. */
  metrics?: EngineMetrics;
  /** Clock of the in-memory broker (ids, expiry); injected for tests. */
  now?: () => number;
}

/** What createEngine is built from. */
export interface CreateEngineDeps extends Omit<EngineDeps, 'metrics'> {
  /** The registry of the service the engine runs in: the engine registers its own families there (engine-metrics.ts). Absent: counted nowhere. */
  registry?: Registry;
}

export interface EngineOptions {
  /** Whether this process receives events (a client-server), which needs a subscriber connection. */
  subscribe: boolean;
}
