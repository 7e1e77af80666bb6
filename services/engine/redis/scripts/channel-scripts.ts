/*
 * Occupancy transitions, each detected and recorded in one atomic script run
 * on the channel's slot: the replica's field in the channel's occupancy hash
 * and, when webhooks are on, the outbox entry (`channel.occupied` when the
 * first replica occupies it, `channel.vacated` when the last one leaves).
 *
 * KEYS: occupancy (oc), outbox (w). ARGV: replica, webhooks ("1"/"0"), time (ms), channel.
 */

/** Returns 1 when the channel was occupied by no replica before (a deployment-wide `channel.occupied`). */
export const OCCUPY_SCRIPT = `#!lua
if redis.call('HSETNX', KEYS[1], ARGV[1], 0) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) > 1 then return 0 end
if ARGV[2] == '1' then
  redis.call('XADD', KEYS[2], '*', 'j', '{"kind":"channel.occupied","channel":"' .. ARGV[4] .. '","time":' .. ARGV[3] .. '}')
end
return 1
`;

/** Returns 1 when no replica occupies the channel any more (a deployment-wide `channel.vacated`). */
export const VACATE_SCRIPT = `#!lua
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
if ARGV[2] == '1' then
  redis.call('XADD', KEYS[2], '*', 'j', '{"kind":"channel.vacated","channel":"' .. ARGV[4] .. '","time":' .. ARGV[3] .. '}')
end
return 1
`;

/** KEYS: occupancy. ARGV: replica, count. Records the count only while the replica occupies the channel. */
export const REPORT_SCRIPT = `#!lua
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`;

/**
 * KEYS: the live-replica set. ARGV: replica. Records a heartbeat at Redis's
 * own clock (replicas' clocks may disagree); returns 1 when the replica was
 * not in the set any more (another replica declared it dead).
 */
export const HEARTBEAT_SCRIPT = `#!lua
local t = redis.call('TIME')
local ms = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZADD', KEYS[1], ms, ARGV[1])
`;

/** KEYS: the live-replica set. ARGV: silence (ms) after which a replica counts as dead. Returns the dead ones. */
export const DEAD_REPLICAS_SCRIPT = `#!lua
local t = redis.call('TIME')
local ms = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[1]))
`;
