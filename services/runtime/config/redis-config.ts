import type { Config } from './schema.js';

/** Which Redis deployment the variables describe; `none` is the embedded mode's in-memory broker. */
export type RedisMode = 'none' | 'standalone' | 'sentinel' | 'cluster';

/** Every variable that says where Redis is and how to connect to it: what the engine's connections read. */
export type RedisConnectionConfig = Pick<
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
>;

type RedisConfig = Pick<
  Config,
  'redisUrl' | 'redisSentinels' | 'redisSentinelMaster' | 'redisSentinelPassword' | 'redisClusterNodes' | 'redisPassword' | 'redisTls' | 'redisTlsCaFile'
>;

export function redisMode(config: Pick<Config, 'redisUrl' | 'redisSentinels' | 'redisClusterNodes'>): RedisMode {
  if (config.redisUrl) return 'standalone';
  if (config.redisSentinels.length > 0) return 'sentinel';
  if (config.redisClusterNodes.length > 0) return 'cluster';
  return 'none';
}

/**
 * The combinations of Redis variables that cannot work, each naming what to
 * set: one deployment (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES),
 * the Sentinel pair together, and a password in one place only.
 */
export function redisProblems(config: RedisConfig): string[] {
  const problems: string[] = [];
  const given = [
    config.redisUrl !== undefined && 'REDIS_URL',
    config.redisSentinels.length > 0 && 'REDIS_SENTINELS',
    config.redisClusterNodes.length > 0 && 'REDIS_CLUSTER_NODES',
  ].filter((name): name is string => typeof name === 'string');
  if (given.length > 1) {
    problems.push(`${given.join(' and ')} are both set: set exactly one (REDIS_URL: one Redis; REDIS_SENTINELS: Sentinel; REDIS_CLUSTER_NODES: Redis Cluster)`);
  }
  if (config.redisSentinels.length > 0 && config.redisSentinelMaster === undefined) {
    problems.push('REDIS_SENTINEL_MASTER must be set with REDIS_SENTINELS: the name the sentinels monitor the primary under');
  }
  if (config.redisSentinels.length === 0 && config.redisSentinelMaster !== undefined) {
    problems.push('REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not: list the sentinels as host:port,...');
  }
  if (config.redisSentinels.length === 0 && config.redisSentinelPassword !== undefined) {
    problems.push('REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not');
  }
  if (config.redisUrl !== undefined && config.redisPassword !== undefined && /^rediss?:\/\/[^/@]*:[^/@]+@/.test(config.redisUrl)) {
    problems.push('REDIS_URL carries a password and REDIS_PASSWORD is set too: set it in one place');
  }
  if (config.redisUrl?.startsWith('redis://') && (config.redisTls || config.redisTlsCaFile !== undefined)) {
    problems.push('REDIS_TLS / REDIS_TLS_CA_FILE ask for TLS but REDIS_URL is redis://: use rediss://');
  }
  return problems;
}

/** Whether connections use TLS: asked for, implied by a CA file, or a rediss:// URL. */
export function redisUsesTls(config: Pick<Config, 'redisUrl' | 'redisTls' | 'redisTlsCaFile'>): boolean {
  return config.redisTls || config.redisTlsCaFile !== undefined || Boolean(config.redisUrl?.startsWith('rediss://'));
}
