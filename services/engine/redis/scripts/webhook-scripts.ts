/*
 * The webhook dispatcher's scripts (engine/redis/webhook-outbox.ts). Each
 * touches one channel's keys only, so each runs in one Cluster slot: the
 * lease `er:{c}:wl`, the outbox stream `er:{c}:w` (entries `j`, the
 * transition JSON) and the delivery state hash `er:{c}:wd`, whose fields are
 * per receiver `c:<receiver>` (the id of the last entry it has) and
 * `b:<receiver>` (its batch in flight:
 * "<webhook id> <time ms> <first entry id> <last entry id> <failed attempts> <due ms>").
 *
 * Every script that writes delivery state first checks that the caller
 * still holds the lease, and answers 'lost' when not.
 */

const FENCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
`;

/** The `j` field of an XRANGE entry ('' when it has none). */
const ENTRY_JSON = `local function j(entry)
  local f = entry[2]
  for i = 1, #f, 2 do
    if f[i] == 'j' then return f[i + 1] end
  end
  return ''
end
`;

/** KEYS: lease. ARGV: owner, ttl ms. Takes or renews the lease: 0, else the ms the holder has left. */
export const LEASE_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then return tonumber(ARGV[2]) end
return left
`;

/** KEYS: lease. ARGV: owner. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS: lease, outbox, state. ARGV: owner, receiver, new webhook id, now ms,
 * max entries, max bytes. Returns {'lost'}, {'idle'}, or {'batch', <state
 * string>, id1, json1, id2, json2, ...}: the batch in flight (its entries
 * read again, so a retry by any dispatcher sends the same body), or a new
 * one of the entries after the cursor, stored before it is returned.
 */
export const NEXT_SCRIPT = `${FENCE}${ENTRY_JSON}
local field = 'b:' .. ARGV[2]
local saved = redis.call('HGET', KEYS[3], field)
local entries
if saved then
  local first, last = string.match(saved, '^%S+ %S+ (%S+) (%S+) ')
  entries = redis.call('XRANGE', KEYS[2], first, last)
  if #entries == 0 then
    -- Its outbox is gone (a Redis restart without persistence): nothing is left to send.
    redis.call('HDEL', KEYS[3], field)
    saved = false
  end
end
if not saved then
  local cursor = redis.call('HGET', KEYS[3], 'c:' .. ARGV[2])
  local from = '-'
  if cursor then from = '(' .. cursor end
  local page = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[5])
  if #page == 0 then return {'idle'} end
  local maxBytes = tonumber(ARGV[6])
  local bytes = 0
  entries = {}
  for _, e in ipairs(page) do
    bytes = bytes + #j(e)
    if #entries > 0 and bytes > maxBytes then break end
    entries[#entries + 1] = e
  end
  saved = ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. entries[1][1] .. ' ' .. entries[#entries][1] .. ' 0 ' .. ARGV[4]
  redis.call('HSET', KEYS[3], field, saved)
end
local out = {'batch', saved}
for _, e in ipairs(entries) do
  out[#out + 1] = e[1]
  out[#out + 1] = j(e)
end
return out
`;

/**
 * KEYS: lease, outbox, state. ARGV: owner, receiver, webhook id, then every
 * configured receiver. The batch is done: its receiver's cursor passes it;
 * entries every receiver has are trimmed; an outbox left empty is deleted
 * with its state (new entries start a fresh one). Returns {'ok'} or {'lost'}.
 */
export const SETTLE_SCRIPT = `${FENCE}
local saved = redis.call('HGET', KEYS[3], 'b:' .. ARGV[2])
if saved then
  local id, last = string.match(saved, '^(%S+) %S+ %S+ (%S+) ')
  if id == ARGV[3] then
    redis.call('HSET', KEYS[3], 'c:' .. ARGV[2], last)
    redis.call('HDEL', KEYS[3], 'b:' .. ARGV[2])
  end
end
-- Stream ids compared exactly, as decimal strings (Lua numbers lose digits past 2^53).
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  if #as ~= #bs then return #as < #bs end
  return as < bs
end
local through, all = nil, true
for i = 4, #ARGV do
  local c = redis.call('HGET', KEYS[3], 'c:' .. ARGV[i])
  if not c then
    all = false
    break
  end
  if not through or before(c, through) then through = c end
end
if all and through then
  redis.call('XTRIM', KEYS[2], 'MINID', through)
  redis.call('XDEL', KEYS[2], through)
end
if redis.call('XLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
return {'ok'}
`;

/** KEYS: lease, state. ARGV: owner, receiver, webhook id, failed attempts, due ms. Returns {'ok'} or {'lost'}. */
export const RESCHEDULE_SCRIPT = `${FENCE}
local field = 'b:' .. ARGV[2]
local saved = redis.call('HGET', KEYS[2], field)
if saved then
  local id, time, first, last = string.match(saved, '^(%S+) (%S+) (%S+) (%S+) ')
  if id == ARGV[3] then
    redis.call('HSET', KEYS[2], field, id .. ' ' .. time .. ' ' .. first .. ' ' .. last .. ' ' .. ARGV[4] .. ' ' .. ARGV[5])
  end
end
return {'ok'}
`;

/** KEYS: outbox, state. ARGV: now ms, then every configured receiver. 1 when one has a batch due or entries after its cursor, else 0. */
export const HAS_WORK_SCRIPT = `
local now = tonumber(ARGV[1])
for i = 2, #ARGV do
  local saved = redis.call('HGET', KEYS[2], 'b:' .. ARGV[i])
  if saved then
    if tonumber(string.match(saved, ' (%S+)$')) <= now then return 1 end
  else
    local cursor = redis.call('HGET', KEYS[2], 'c:' .. ARGV[i])
    local from = '-'
    if cursor then from = '(' .. cursor end
    if #redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 1) > 0 then return 1 end
  end
end
return 0
`;
