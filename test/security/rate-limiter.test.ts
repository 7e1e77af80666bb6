import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPublishRateLimiter, publishRateLimitOptions, rateLimitKey } from '../../services/common/rate-limit/create-rate-limiter.js';
import { MemoryRateLimiter } from '../../services/common/rate-limit/memory-rate-limiter.js';
import { RedisRateLimiter } from '../../services/common/rate-limit/redis-rate-limiter.js';
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

describe('the rate limiter factory', () => {
  test('makes no limiter when PUBLISH_RATE_LIMIT is 0, the default', () => {
    expect(createPublishRateLimiter({ publishRateLimit: 0, publishRateWindowSeconds: 10 })).toBeUndefined();
  });

  test('counts in Redis when given a connection, in memory otherwise', () => {
    const config = { publishRateLimit: 5, publishRateWindowSeconds: 10 };
    expect(createPublishRateLimiter(config, redis)).toBeInstanceOf(RedisRateLimiter);
    expect(createPublishRateLimiter(config)).toBeInstanceOf(MemoryRateLimiter);
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
