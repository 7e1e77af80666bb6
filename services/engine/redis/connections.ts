import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { redisMode, redisUsesTls, type RedisConnectionConfig } from '../../runtime/config/redis-config.js';
import type { Config } from '../../runtime/config/schema.js';
import { redactUrl } from '../../runtime/logger.js';
import { FAILOVER_RETRY_MAX_MS, redisClientOptions } from './options.js';

/** The command client of any mode: one connection (standalone, Sentinel) or a Cluster client routing by slot. */
export type RedisClient = Redis | Cluster;
export type RedisDeployment = 'standalone' | 'sentinel' | 'cluster';

/**
 * How often the Cluster client re-reads the slot map even when nothing told
 * it to. ioredis documents a 5 s default it never applies: without this a
 * slot migration that sends no MOVED to this process goes unnoticed.
 */
export const SLOTS_REFRESH_INTERVAL_MS = 1000;

export type ConnectionConfig = RedisConnectionConfig & Pick<Config, 'redisWaitTimeoutMs'>;

export interface RedisConnections {
  deployment: RedisDeployment;
  /** Every command: scripts, reads, WAIT. */
  commands: RedisClient;
  /** Single-node modes, for a process that subscribes: the pub/sub connection (a duplicate, so it follows the same primary). */
  subscriber?: Redis;
  /** Cluster mode: a new pub/sub connection to one master (sharded-subscriber.ts makes one per master and closes it). */
  openNode?(host: string, port: number): Redis;
  /** Where Redis is, for logs: no credentials. */
  where: string;
  /** Called before the owner closes the connections: nothing may reconnect them any more. */
  release?(): void;
}

/** After ioredis gave up on a Sentinel connection, it is connected again this much later. */
const REVIVE_DELAY_MS = 250;

/**
 * ioredis 6.0.0 ends a Sentinel connection for good when the failover
 * detector's +switch-master disconnect lands while a reconnect is still
 * asking the sentinels (its connector then throws "Connection is closed."
 * and the client goes to `end` instead of retrying; seen in
 * test/engine/redis-sentinel.test.ts on the second failover). A relay must
 * never stop reconnecting, so an `end` nobody asked for connects again.
 */
function keepConnecting(connection: Redis): () => void {
  let released = false;
  connection.on('end', () => {
    if (released) return;
    setTimeout(() => {
      if (!released && connection.status === 'end') connection.connect().catch(() => undefined);
    }, REVIVE_DELAY_MS).unref();
  });
  return () => {
    released = true;
  };
}

/** Opens the connections of the deployment the configuration names (exactly one is set: redis-config.ts). */
export function openConnections(config: ConnectionConfig, options: { subscribe: boolean }): RedisConnections {
  const mode = redisMode(config);
  const base = redisClientOptions(config);
  const auth = authOptions(config);
  if (mode === 'standalone') {
    const commands = new Redis(config.redisUrl!, { ...base, ...auth, connectionName: 'eventrelay-commands' });
    const subscriber = options.subscribe ? commands.duplicate({ connectionName: 'eventrelay-pubsub' }) : undefined;
    return { deployment: 'standalone', commands, subscriber, where: redactUrl(config.redisUrl!) };
  }
  if (mode === 'sentinel') {
    const tls = auth.tls;
    const sentinel: RedisOptions = {
      ...redisClientOptions(config, FAILOVER_RETRY_MAX_MS),
      ...auth,
      sentinels: config.redisSentinels.map(hostPort),
      name: config.redisSentinelMaster!,
      sentinelPassword: config.redisSentinelPassword,
      ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      // Without it a graceful failover leaves us writing to the demoted primary until the
      // sentinels' next INFO of it (~10 s, writes then lost): +switch-master reconnects at once.
      failoverDetector: true,
      connectionName: 'eventrelay-commands',
    };
    const commands = new Redis(sentinel);
    const subscriber = options.subscribe ? commands.duplicate({ connectionName: 'eventrelay-pubsub' }) : undefined;
    const revivers = [commands, subscriber].filter((c): c is Redis => c !== undefined).map(keepConnecting);
    return {
      deployment: 'sentinel',
      commands,
      subscriber,
      where: `sentinel master "${config.redisSentinelMaster}" via ${config.redisSentinels.join(',')}`,
      release: () => revivers.forEach((stop) => stop()),
    };
  }
  if (mode === 'cluster') {
    const node = { ...redisClientOptions(config, FAILOVER_RETRY_MAX_MS), ...auth };
    const { retryStrategy: _retry, enableOfflineQueue: _queue, ...redisOptions } = node;
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...redisOptions, connectionName: 'eventrelay-commands' },
      enableOfflineQueue: false,
      // "Connection is closed." would otherwise be re-sent after a refresh: a script that
      // ran before the socket died would store its events twice. The producer retries instead.
      retryDelayOnFailover: 0,
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      // Backfill and history read the master: a replica may lag the live message we just got.
      scaleReads: 'master',
    };
    const commands = new Cluster(config.redisClusterNodes.map(hostPort), clusterOptions);
    // ioredis opens node connections lazily, and without an offline queue a command meeting one
    // that is still connecting fails ("Connection is closed."): a burst at start, or after a new
    // master appears, would answer 503. Every node is connected as soon as it is known instead.
    commands.on('+node', (node: Redis) => {
      if (node.status === 'wait') node.connect().catch(() => undefined);
    });
    return {
      deployment: 'cluster',
      commands,
      openNode: (host, port) => new Redis({ ...node, host, port, autoResubscribe: false, connectionName: 'eventrelay-pubsub' }),
      where: `cluster via ${config.redisClusterNodes.join(',')}`,
    };
  }
  throw new Error('openConnections: no Redis is configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
}

function authOptions(config: ConnectionConfig): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const options: Pick<RedisOptions, 'username' | 'password' | 'tls'> = {};
  if (config.redisUsername !== undefined) options.username = config.redisUsername;
  if (config.redisPassword !== undefined) options.password = config.redisPassword;
  if (redisUsesTls(config)) {
    const tls: ConnectionOptions = {};
    if (config.redisTlsCa !== undefined) tls.ca = config.redisTlsCa;
    options.tls = tls;
  }
  return options;
}

/** `host:port` or `[v6]:port` as ioredis takes an address. */
export function hostPort(item: string): { host: string; port: number } {
  const colon = item.lastIndexOf(':');
  const host = item.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(item.slice(colon + 1)) };
}
