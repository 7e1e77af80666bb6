/**
 * Stores and publishes a whole batch in one atomic script run, so that an
 * event is in history before any subscriber can see it, ids follow request
 * order, and a key repeated inside the batch finds the event stored a moment
 * earlier by the same run.
 *
 * The `#!lua` shebang (Redis >= 7) makes Redis refuse the whole script up
 * front when it is out of memory, instead of failing at the first write
 * halfway through a batch; Lua scripts are never rolled back.
 *
 * KEYS: per event, its stream key, then its idempotency key when it has one,
 * then its webhook outbox key when it has a transition.
 * ARGV: historySize, historyTtlSeconds, idempotencyTtlSeconds, the publish
 * command ("PUBLISH", or "SPUBLISH" in a Redis Cluster: a PUBLISH from a
 * script reaches no sharded subscriber), then eight per event:
 * hasIdempotencyKey ("1"/"0"), topic, data, ts, publisher ("" for none),
 * and the `client.publish` transition's JSON around its id and data (head,
 * middle, tail; all "" for no transition: webhooks off or not a client publish).
 * Publishes per event the bus message of bus-message.ts:
 *   "1 <id> <ts> <#publisher>\n<publisher><data>".
 * Appends the transition (PROTOCOL.md v1.1 Webhooks) to the channel's outbox
 * in the same step as the store, so that it is reported exactly when the
 * event is stored, even if this process dies right after.
 * Returns, per event in request order, its id and 1 when replayed, else 0.
 */
export const PUBLISH_SCRIPT = `#!lua
local size = ARGV[1]
local ttl = tonumber(ARGV[2])
local idemTtl = ARGV[3]
local publish = ARGV[4]
local out = {}
local k = 1
for a = 5, #ARGV, 8 do
  local stream = KEYS[k]
  k = k + 1
  local idem = nil
  if ARGV[a] == '1' then
    idem = KEYS[k]
    k = k + 1
  end
  local outbox = nil
  if ARGV[a + 5] ~= '' then
    outbox = KEYS[k]
    k = k + 1
  end
  local id = false
  if idem then id = redis.call('GET', idem) end
  if id then
    out[#out + 1] = id
    out[#out + 1] = 1
  else
    local data, ts, publisher = ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
    if publisher == '' then
      id = redis.call('XADD', stream, 'MAXLEN', '~', size, '*', 'd', data, 't', ts)
    else
      id = redis.call('XADD', stream, 'MAXLEN', '~', size, '*', 'd', data, 't', ts, 'p', publisher)
    end
    if ttl > 0 then redis.call('EXPIRE', stream, ttl) end
    if idem then redis.call('SET', idem, id, 'EX', idemTtl) end
    if outbox then redis.call('XADD', outbox, '*', 'j', ARGV[a + 5] .. id .. ARGV[a + 6] .. data .. ARGV[a + 7]) end
    redis.call(publish, ARGV[a + 1], '1 ' .. id .. ' ' .. ts .. ' ' .. #publisher .. '\\n' .. publisher .. data)
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
return out
`;
