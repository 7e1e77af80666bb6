import { once } from 'node:events';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { EngineMetrics } from '../../services/engine/engine-metrics.js';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { redisClientOptions } from '../../services/engine/redis/options.js';
import { DEFAULT_HISTORY_SIZE, DEFAULT_HISTORY_TTL_SECONDS, DEFAULT_IDEMPOTENCY_TTL_SECONDS, type Config } from '../../services/runtime/config/schema.js';
import { sinkLogger } from './recorder.js';

export type BusConfig = Pick<
  Config,
  'historySize' | 'historyTtlSeconds' | 'idempotencyTtlSeconds' | 'redisWaitReplicas' | 'redisWaitTimeoutMs'
>;

export function busConfig(overrides: Partial<Config> = {}): BusConfig {
  return {
    historySize: overrides.historySize ?? DEFAULT_HISTORY_SIZE,
    historyTtlSeconds: overrides.historyTtlSeconds ?? DEFAULT_HISTORY_TTL_SECONDS,
    idempotencyTtlSeconds: overrides.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    redisWaitReplicas: overrides.redisWaitReplicas ?? 0,
    redisWaitTimeoutMs: overrides.redisWaitTimeoutMs ?? 1000,
  };
}

export async function ready(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') await once(connection, 'ready');
}

export interface BusUnderTest {
  bus: RedisBus;
  redis: Redis;
  subscriber?: Redis;
  metrics: EngineMetrics;
  logger: Logger;
  lines: Array<{ level: number; msg: string }>;
  cleanup(): Promise<void>;
}

/**
 * Builds a RedisBus the way main.ts does: connections made with
 * redisClientOptions, the subscriber a duplicate (pointed at `subscriberPort`
 * when given, e.g. a cuttable proxy). The test, as creator, closes them.
 */
export async function redisBus(
  port: number,
  overrides: Partial<Config> = {},
  options: { subscribe?: boolean; subscriberPort?: number } = {},
): Promise<BusUnderTest> {
  const config = busConfig(overrides);
  const redis = new Redis(`redis://127.0.0.1:${port}`, redisClientOptions(config));
  // An unhandled 'error' event would crash the test process while Redis is deliberately down.
  redis.on('error', () => {});
  let subscriber: Redis | undefined;
  if (options.subscribe !== false) {
    subscriber = redis.duplicate(options.subscriberPort === undefined ? {} : { port: options.subscriberPort });
    subscriber.on('error', () => {});
  }
  await Promise.all([ready(redis), subscriber && ready(subscriber)]);
  const { logger, lines } = sinkLogger();
  const metrics = new EngineMetrics(new Registry(), { subscribe: true, webhooks: false });
  const bus = new RedisBus({ config, logger, metrics, redis, subscriber });
  return {
    bus,
    redis,
    subscriber,
    metrics,
    logger,
    lines,
    async cleanup() {
      await bus.close();
      subscriber?.disconnect();
      redis.disconnect();
    },
  };
}

export async function counter(metrics: EngineMetrics, name: 'busReconnects' | 'backfilledEvents' | 'gaps'): Promise<number> {
  return (await metrics[name].get()).values[0]?.value ?? 0;
}
