import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { createEngine } from '../../services/engine/create-engine.js';
import { publishRateLimitOptions } from '../../services/engine/rate-limiter.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { rateLimitKey } from '../../services/source-server/plugins/rate-limit.js';
import { MemoryRateLimiter } from '../../services/engine/memory/memory-rate-limiter.js';
import { RedisRateLimiter } from '../../services/engine/redis/rate-limiter.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { rateLimiterContract } from './rate-limiter-contract.js';

let server: RedisServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

rateLimiterContract('memory', async (limit, windowMs) => new MemoryRateLimiter({ limit, windowMs }));
rateLimiterContract('redis', async (limit, windowMs) => new RedisRateLimiter(redis, { limit, windowMs }));

describe('the engine\'s publish rate limiter', () => {
  const logger = pino({ level: 'silent' });

  test('is none when PUBLISH_RATE_LIMIT is 0, the default', async () => {
    const engine = createEngine({ config: loadConfig({}), logger }, { subscribe: false });
    expect(engine.publishRateLimiter).toBeUndefined();
    await engine.close();
  });

  test('counts in Redis when the engine has one, in memory otherwise', async () => {
    const onRedis = createEngine({ config: loadConfig({ PUBLISH_RATE_LIMIT: '5', REDIS_URL: server.url }), logger }, { subscribe: false });
    const inMemory = createEngine({ config: loadConfig({ PUBLISH_RATE_LIMIT: '5' }), logger }, { subscribe: false });
    expect(onRedis.publishRateLimiter).toBeInstanceOf(RedisRateLimiter);
    expect(inMemory.publishRateLimiter).toBeInstanceOf(MemoryRateLimiter);
    await Promise.all([onRedis.close(), inMemory.close()]);
  });

  test('allows the rate times the window per window, and at least one event', () => {
    expect(publishRateLimitOptions({ publishRateLimit: 5, publishRateWindowSeconds: 10 })).toEqual({ limit: 50, windowMs: 10_000 });
    expect(publishRateLimitOptions({ publishRateLimit: 0.01, publishRateWindowSeconds: 1 })).toEqual({ limit: 1, windowMs: 1000 });
  });

  test('keys counters by a digest of the credential, never the credential itself', () => {
    const digest = rateLimitKey('key:my-secret-publisher-key');
    expect(digest).not.toContain('secret');
    expect(digest).toBe(rateLimitKey('key:my-secret-publisher-key'));
    expect(digest).not.toBe(rateLimitKey('key:my-secret-publisher-kez'));
  });
});
