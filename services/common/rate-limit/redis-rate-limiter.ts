import type { Redis } from 'ioredis';
import { retryAfterSeconds, type RateDecision, type RateLimitOptions, type RateLimiter } from './rate-limiter.js';

/**
 * One script run per request, so that the check and the increment are
 * atomic across replicas. The window is the key's TTL: Redis's clock is the
 * only one involved, so replicas with skewed clocks still agree.
 *
 * KEYS[1]: the counter. ARGV: cost, limit, windowMs.
 * Returns {1, 0} when admitted, {0, ms left in the window} when refused.
 */
export const RATE_LIMIT_SCRIPT = `
local cost = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 and count + cost > tonumber(ARGV[2]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then
    redis.call('DEL', KEYS[1])
    left = 0
  end
  return {0, left}
end
local total = redis.call('INCRBY', KEYS[1], cost)
if total == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, 0}
`;

const COMMAND = 'eventrelayRateLimit';
/** Counters live beside the channel keys (redis-keys.ts) under their own prefix. */
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
    private readonly redis: Redis,
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
