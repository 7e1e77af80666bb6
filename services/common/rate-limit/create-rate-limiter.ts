import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import type { RateLimiter } from './rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

/**
 * The one place that picks the publish rate limiter from configuration,
 * beside createBus: none when PUBLISH_RATE_LIMIT is 0, counted in Redis when
 * the process has a Redis connection (so every replica shares the count),
 * else in memory. The Redis connection is the bus's command connection,
 * passed in by main and closed by it, never by the limiter.
 */
export function createPublishRateLimiter(
  config: Pick<Config, 'publishRateLimit' | 'publishRateWindowSeconds'>,
  redis?: Redis,
): RateLimiter | undefined {
  if (config.publishRateLimit <= 0) return undefined;
  const options = publishRateLimitOptions(config);
  return redis ? new RedisRateLimiter(redis, options) : new MemoryRateLimiter(options);
}

/** Events per window: the configured rate times the window, at least one event. */
export function publishRateLimitOptions(config: Pick<Config, 'publishRateLimit' | 'publishRateWindowSeconds'>): { limit: number; windowMs: number } {
  return {
    limit: Math.max(1, Math.floor(config.publishRateLimit * config.publishRateWindowSeconds)),
    windowMs: config.publishRateWindowSeconds * 1000,
  };
}

/**
 * What a counter is keyed by: a digest of the credential, so that neither a
 * Redis dump nor MONITOR shows a publisher key.
 */
export function rateLimitKey(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 32);
}
