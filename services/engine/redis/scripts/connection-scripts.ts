/*
 * The per-address connection count shared by every client-server
 * (connection-counter.ts), one atomic script per connect, disconnect or
 * lease renewal, on the address's own slot. Time is Redis's, so replicas
 * with skewed clocks agree on whose lease ran out.
 *
 * KEYS: counts (hash replica → connections), leases (sorted set replica → expiry ms).
 */

const NOW = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
`;

/** ARGV: replica, max, leaseMs. Drops expired leases, then admits when the total is below max. Returns 1 admitted, 0 refused. */
export const CONNECTION_ACQUIRE_SCRIPT = `#!lua
${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, replica in ipairs(expired) do redis.call('HDEL', KEYS[1], replica) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local total = 0
for _, n in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(n) end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

/** ARGV: replica. One connection of the replica closed. */
export const CONNECTION_RELEASE_SCRIPT = `#!lua
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return n
`;

/** ARGV: replica, count, leaseMs. Sets the replica's share to what it really holds (healing lost releases) and extends its lease. */
export const CONNECTION_RENEW_SCRIPT = `#!lua
${NOW}
if tonumber(ARGV[2]) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;
