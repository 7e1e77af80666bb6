/**
 * A fixed-window counter per key: at most `limit` units per window of
 * `windowMs`, the window starting at the key's first charge. Two
 * implementations side by side pass one contract test
 * (test/engine/rate-limiter-contract.ts): MemoryRateLimiter for one
 * process (embedded mode), RedisRateLimiter counted across every replica
 * that shares the Redis.
 *
 * A charge is all or nothing: a refused charge counts nothing, so a client
 * that keeps retrying while refused is let in again when the window ends.
 * A charge larger than the whole limit is admitted only into an empty
 * window (it then fills it), so a batch bigger than the allowance is slowed
 * down, never refused forever.
 */
export interface RateLimiter {
  /**
   * Charges `cost` units to `key` (already hashed by the caller: keys are
   * never stored in the clear). Rejects only when the counter cannot be
   * reached (Redis down); the caller answers 503.
   */
  take(key: string, cost: number): Promise<RateDecision>;
}

export type RateDecision = { allowed: true } | { allowed: false; /** Whole seconds until the window ends, at least 1. */ retryAfterSeconds: number };

export interface RateLimitOptions {
  /** Units per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

/** Retry-After is whole seconds and never 0, which clients would read as "now". */
export function retryAfterSeconds(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

/** PUBLISH_RATE_LIMIT as counter options: the configured rate times the window, at least one event per window. */
export function publishRateLimitOptions(config: { publishRateLimit: number; publishRateWindowSeconds: number }): RateLimitOptions {
  return {
    limit: Math.max(1, Math.floor(config.publishRateLimit * config.publishRateWindowSeconds)),
    windowMs: config.publishRateWindowSeconds * 1000,
  };
}
