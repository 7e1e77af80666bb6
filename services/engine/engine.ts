import type { Logger } from 'pino';
import type { Config } from '../runtime/config/schema.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Bus, BusHealth } from './bus.js';
import type { Channels } from './channels.js';
import type { ConnectionCounter } from './connection-counter.js';
import type { Control } from './control.js';
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
  /** MAX_CONNECTIONS_PER_IP counted across every client-server on the broker; undefined: the process's own count is the deployment's. */
  readonly connectionCounter?: ConnectionCounter;
  /** Whether the engine can serve right now, and why not (readiness). */
  health(): BusHealth;
  /** Closes the bus, then every connection the engine opened (whoever creates a resource closes it). */
  close(): Promise<void>;
}

/** The configuration the engine reads. */
export type EngineConfig = Pick<
  Config,
  | 'redisUrl'
  | 'redisSentinels'
  | 'redisSentinelMaster'
  | 'redisSentinelPassword'
  | 'redisClusterNodes'
  | 'redisUsername'
  | 'redisPassword'
  | 'redisTls'
  | 'redisTlsCaFile'
  | 'redisTlsCa'
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
>;

export interface EngineDeps {
  config: EngineConfig;
  logger: Logger;
  /** Where the engine counts reconnects, backfills, gaps and canary failures. */
  metrics?: Metrics;
  /** Clock of the in-memory broker (ids, expiry); injected for tests. */
  now?: () => number;
}

export interface EngineOptions {
  /** Whether this process receives events (a client-server), which needs a subscriber connection. */
  subscribe: boolean;
}
