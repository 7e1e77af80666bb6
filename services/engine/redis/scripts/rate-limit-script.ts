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
