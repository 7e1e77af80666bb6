import type { Redis } from 'ioredis';
import { eventFramePrefix, eventFrameSuffix } from '../protocol.js';
import type { OutgoingEvent, PublishResult } from './bus.js';
import { idempotencyKey, streamKey, topicName } from './redis-keys.js';

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
 * KEYS: per event, its stream key, then its idempotency key when it has one.
 * ARGV: historySize, historyTtlSeconds, idempotencyTtlSeconds, then six per
 * event: hasIdempotencyKey ("1"/"0"), topic, frame prefix, frame suffix, data, ts.
 * Returns, per event in request order, its id and 1 when replayed, else 0.
 */
export const PUBLISH_SCRIPT = `#!lua
local size = ARGV[1]
local ttl = tonumber(ARGV[2])
local idemTtl = ARGV[3]
local out = {}
local k = 1
for a = 4, #ARGV, 6 do
  local stream = KEYS[k]
  k = k + 1
  local idem = nil
  if ARGV[a] == '1' then
    idem = KEYS[k]
    k = k + 1
  end
  local id = false
  if idem then id = redis.call('GET', idem) end
  if id then
    out[#out + 1] = id
    out[#out + 1] = 1
  else
    id = redis.call('XADD', stream, 'MAXLEN', '~', size, '*', 'd', ARGV[a + 4], 't', ARGV[a + 5])
    if ttl > 0 then redis.call('EXPIRE', stream, ttl) end
    if idem then redis.call('SET', idem, id, 'EX', idemTtl) end
    redis.call('PUBLISH', ARGV[a + 1], ARGV[a + 2] .. id .. ARGV[a + 3])
    out[#out + 1] = id
    out[#out + 1] = 0
  end
end
return out
`;

/** The name under which the script is defined on the command connection. */
const COMMAND = 'eventrelayPublish';

export interface PublishLimits {
  historySize: number;
  historyTtlSeconds: number;
  idempotencyTtlSeconds: number;
}

type ScriptCaller = (numKeys: number, ...args: string[]) => Promise<unknown>;

/**
 * Defines the script on `redis` (ioredis sends EVALSHA and falls back to EVAL
 * on NOSCRIPT, e.g. after a Redis restart). Defining it again is harmless,
 * so two buses may share one connection.
 */
export function definePublishScript(redis: Redis): void {
  redis.defineCommand(COMMAND, { lua: PUBLISH_SCRIPT });
}

/** Runs the script once for `events`; resolves their results in request order. */
export async function runPublishScript(
  redis: Redis,
  events: readonly OutgoingEvent[],
  limits: PublishLimits,
): Promise<PublishResult[]> {
  const keys: string[] = [];
  const args: string[] = [String(limits.historySize), String(limits.historyTtlSeconds), String(limits.idempotencyTtlSeconds)];
  for (const event of events) {
    keys.push(streamKey(event.channel));
    const keyed = event.idempotencyKey !== undefined;
    if (keyed) keys.push(idempotencyKey(event.channel, event.idempotencyKey!));
    args.push(
      keyed ? '1' : '0',
      topicName(event.channel),
      eventFramePrefix(event.channel),
      eventFrameSuffix(event.data, event.ts),
      event.data,
      String(event.ts),
    );
  }
  const call = (redis as unknown as Record<string, ScriptCaller>)[COMMAND];
  if (typeof call !== 'function') throw new Error('the publish script is not defined on this connection');
  const reply = await call.call(redis, keys.length, ...keys, ...args);
  return parseReply(reply, events);
}

function parseReply(reply: unknown, events: readonly OutgoingEvent[]): PublishResult[] {
  if (!Array.isArray(reply) || reply.length !== events.length * 2) {
    throw new Error(`unexpected publish script reply of ${Array.isArray(reply) ? reply.length : typeof reply}`);
  }
  return events.map((event, i) => ({
    channel: event.channel,
    id: String(reply[2 * i]),
    replayed: Number(reply[2 * i + 1]) === 1,
  }));
}

/**
 * Redis Cluster answers CROSSSLOT to a script whose keys span slots, i.e. a
 * batch with several channels. We then fall back to one script run per
 * channel, in order of first appearance: each channel's events stay atomic
 * and ordered, but the batch as a whole is no longer all or nothing (a
 * failure part way answers 503 with earlier channels stored; a retry with
 * Idempotency-Keys is answered from them). A single Redis never takes this path.
 */
export function isCrossSlotError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('CROSSSLOT');
}

/** Indexes of `events` grouped by channel, groups in order of first appearance. */
export function groupByChannel(events: readonly OutgoingEvent[]): number[][] {
  const groups = new Map<string, number[]>();
  events.forEach((event, i) => {
    const group = groups.get(event.channel);
    if (group) group.push(i);
    else groups.set(event.channel, [i]);
  });
  return [...groups.values()];
}
