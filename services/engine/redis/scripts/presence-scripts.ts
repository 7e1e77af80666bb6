/*
 * Presence transitions, each detected and recorded in one atomic script run
 * on the channel's slot: the member change, the live message to every
 * client-server subscribed to the channel (on its event topic, marked `p`,
 * see bus-message.ts), and, when webhooks are on, the outbox entry. Keys are
 * the channel's (keys.ts), so a Cluster runs them on one slot.
 *
 * Shared KEYS: members (pm), users (pu), infos (pi), outbox (w).
 * Shared ARGV: topic, webhooks ("1"/"0"), time (ms), channel, publish command ("PUBLISH" or "SPUBLISH").
 */

/** Lua helpers: a leave of `user` when its last connection went; JSON built with cjson so user ids are escaped. */
const LEAVE_FUNCTION = `
local function leave(user)
  local n = redis.call('HINCRBY', KEYS[2], user, -1)
  if n > 0 then return 0 end
  redis.call('HDEL', KEYS[2], user)
  redis.call('HDEL', KEYS[3], user)
  redis.call(ARGV[5], ARGV[1], 'p' .. cjson.encode({type = 'leave', user = user}))
  if ARGV[2] == '1' then
    redis.call('XADD', KEYS[4], '*', 'j', '{"kind":"presence.leave","channel":"' .. ARGV[4] .. '","time":' .. ARGV[3] .. ',"user":' .. cjson.encode(user) .. '}')
  end
  return 1
end
`;

/**
 * ARGV[6]: member field, ARGV[7]: user, ARGV[8]: info JSON.
 * Returns 1 when this was the user's first connection (a join), else 0.
 */
export const PRESENCE_JOIN_SCRIPT = `#!lua
if redis.call('HEXISTS', KEYS[1], ARGV[6]) == 1 then return 0 end
local user, info = ARGV[7], ARGV[8]
redis.call('HSET', KEYS[1], ARGV[6], '{"u":' .. cjson.encode(user) .. ',"i":' .. info .. '}')
redis.call('HSET', KEYS[3], user, info)
if redis.call('HINCRBY', KEYS[2], user, 1) > 1 then return 0 end
redis.call(ARGV[5], ARGV[1], 'p{"type":"join","user":' .. cjson.encode(user) .. ',"info":' .. info .. '}')
if ARGV[2] == '1' then
  redis.call('XADD', KEYS[4], '*', 'j', '{"kind":"presence.join","channel":"' .. ARGV[4] .. '","time":' .. ARGV[3] .. ',"user":' .. cjson.encode(user) .. '}')
end
return 1
`;

/** ARGV[6]: member field. Returns 1 when the user's last connection left (a leave), else 0. */
export const PRESENCE_LEAVE_SCRIPT = `#!lua
${LEAVE_FUNCTION}
local member = redis.call('HGET', KEYS[1], ARGV[6])
if not member then return 0 end
redis.call('HDEL', KEYS[1], ARGV[6])
return leave(cjson.decode(member).u)
`;

/** ARGV[6]: a dead replica's field prefix (`<replica>|`). Removes all its members; returns the number of leaves. */
export const PRESENCE_EXPIRE_SCRIPT = `#!lua
${LEAVE_FUNCTION}
local prefix = ARGV[6]
local fields = redis.call('HKEYS', KEYS[1])
local leaves = 0
for _, field in ipairs(fields) do
  if string.sub(field, 1, #prefix) == prefix then
    local member = redis.call('HGET', KEYS[1], field)
    redis.call('HDEL', KEYS[1], field)
    leaves = leaves + leave(cjson.decode(member).u)
  end
end
return leaves
`;
