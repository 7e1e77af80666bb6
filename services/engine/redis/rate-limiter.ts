import { retryAfterSeconds, type RateDecision, type RateLimitOptions, type RateLimiter } from '../rate-limiter.js';
import type { RedisClient } from './connections.js';
import { RATE_LIMIT_SCRIPT } from './scripts/rate-limit-script.js';

const COMMAND = 'eventrelayRateLimit';
/** Counters live beside the channel keys (keys.ts) under their own prefix. */
const KEY_PREFIX = 'er:rl:';

/** The command defineCommand adds: the key, then ARGV. */
type ScriptCaller = (...keyAndArgs: string[]) => Promise<unknown>;

/**
 * The RateLimiter counted in Redis, shared by every replica. Receives the
 * command connection from whoever created it and never closes it.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly call: ScriptCaller;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RateLimitOptions,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: RATE_LIMIT_SCRIPT });
    this.call = (redis as unknown as Record<string, ScriptCaller>)[COMMAND]!.bind(redis);
  }

  async take(key: string, cost: number): Promise<RateDecision> {
    const reply = (await this.call(KEY_PREFIX + key, String(cost), String(this.options.limit), String(this.options.windowMs))) as [number, number];
    if (reply[0] === 1) return { allowed: true };
    return { allowed: false, retryAfterSeconds: retryAfterSeconds(reply[1]) };
  }
}
