import type { ChainableCommander } from 'ioredis';
import type { OutgoingEvent, PublishResult } from '../bus.js';
import { transitionJson } from '../outbox.js';
import { channelSlot } from './cluster/slots.js';
import type { RedisClient } from './connections.js';
import { idempotencyKey, outboxKey, streamKey, topicName } from './keys.js';
import { markOutboxes } from './outbox-mark.js';
import { PUBLISH_SCRIPT } from './scripts/publish-script.js';

/** The name under which the script is defined on the command connection. */
const COMMAND = 'eventrelayPublish';

export interface PublishLimits {
  historySize: number;
  historyTtlSeconds: number;
  idempotencyTtlSeconds: number;
  /** Channels whose client publishes (events with `publisher`) append their `client.publish` transition (engine/webhooks/routes.ts). */
  webhooks?: (channel: string) => boolean;
}

/** Stand-ins for what only the script knows (the id) or already holds (the data); neither can occur in the JSON around them. */
const ID_SLOT = '\u0000id\u0000';
const DATA_SLOT = '\u0000data\u0000';

/** How the script publishes and how many replicas must have it before it counts (REDIS_WAIT_REPLICAS). */
export interface PublishTarget {
  /** `SPUBLISH` in a Redis Cluster (sharded pub/sub), else `PUBLISH`. */
  publishCommand: 'PUBLISH' | 'SPUBLISH';
  waitReplicas: number;
  waitTimeoutMs: number;
}

export interface ScriptOutcome {
  results: PublishResult[];
  /** With `waitReplicas`: how many replicas acknowledged the write (WAIT's answer). */
  acked?: number;
}

type ScriptCaller = (numKeys: number, ...args: string[]) => Promise<unknown>;

/**
 * Defines the script on `redis` (ioredis sends EVALSHA and falls back to EVAL
 * on NOSCRIPT, e.g. after a Redis restart). Defining it again is harmless,
 * so two buses may share one connection.
 */
export function definePublishScript(redis: RedisClient): void {
  redis.defineCommand(COMMAND, { lua: PUBLISH_SCRIPT });
}

/**
 * The batch as groups of request positions, each stored by one script run:
 * the whole batch on one Redis; one group per slot in a Cluster, where a
 * script may touch one slot only. Events of one channel share a slot, so
 * they stay in one group, in request order: atomic per channel, always.
 */
export function publishGroups(events: readonly OutgoingEvent[], sharded: boolean): number[][] {
  if (!sharded) return [events.map((_, i) => i)];
  const bySlot = new Map<number, number[]>();
  events.forEach((event, i) => {
    const slot = channelSlot(event.channel);
    const group = bySlot.get(slot);
    if (group) group.push(i);
    else bySlot.set(slot, [i]);
  });
  return [...bySlot.values()];
}

/**
 * Runs the script once for `events` (all on one slot in a Cluster); resolves
 * their results in request order. With `waitReplicas`, WAIT is pipelined
 * right behind the script: WAIT counts the replicas of the connection it runs
 * on that have that connection's writes, so it must follow the write on the
 * slot master's own connection (a Cluster client would send a lone WAIT to a
 * random node, which answers at once).
 */
export async function runPublishScript(
  redis: RedisClient,
  events: readonly OutgoingEvent[],
  limits: PublishLimits,
  target: PublishTarget,
): Promise<ScriptOutcome> {
  const keys: string[] = [];
  const args: string[] = [String(limits.historySize), String(limits.historyTtlSeconds), String(limits.idempotencyTtlSeconds), target.publishCommand];
  const outboxes = new Set<string>();
  for (const event of events) {
    keys.push(streamKey(event.channel));
    const keyed = event.idempotencyKey !== undefined;
    if (keyed) keys.push(idempotencyKey(event.channel, event.idempotencyKey!, event.idempotencyScope));
    const transition = limits.webhooks?.(event.channel) && event.publisher !== undefined ? clientPublishParts(event as OutgoingEvent & { publisher: string }) : ['', '', ''];
    if (transition[0] !== '') {
      keys.push(outboxKey(event.channel));
      outboxes.add(event.channel);
    }
    args.push(keyed ? '1' : '0', topicName(event.channel), event.data, String(event.ts), event.publisher ?? '', ...transition);
  }
  // Marked before (dying after the script loses nothing) and after (a dispatcher that finished in between looks again): outbox-mark.ts.
  const marks = [...outboxes];
  await markOutboxes(redis, marks, Date.now());
  const outcome = await runScript(redis, keys, args, events, target);
  // The events are stored: a failed second mark must not turn that into an error; the first mark (or the repair) covers it.
  await markOutboxes(redis, marks, Date.now()).catch(() => {});
  return outcome;
}

async function runScript(redis: RedisClient, keys: string[], args: string[], events: readonly OutgoingEvent[], target: PublishTarget): Promise<ScriptOutcome> {
  if (target.waitReplicas <= 0) {
    const call = (redis as unknown as Record<string, ScriptCaller>)[COMMAND];
    if (typeof call !== 'function') throw new Error('the publish script is not defined on this connection');
    return { results: parseReply(await call.call(redis, keys.length, ...keys, ...args), events) };
  }
  const pipeline = redis.pipeline() as ChainableCommander & Record<string, (...a: (string | number)[]) => ChainableCommander>;
  const replies = await pipeline[COMMAND]!(keys.length, ...keys, ...args).wait(target.waitReplicas, target.waitTimeoutMs).exec();
  const [scriptReply, waitReply] = replies ?? [];
  if (!scriptReply) throw new Error('the publish pipeline answered nothing');
  if (scriptReply[0]) throw scriptReply[0];
  const results = parseReply(scriptReply[1], events);
  // A failed WAIT proves nothing about the replicas: the events are stored, unconfirmed.
  return { results, acked: waitReply && !waitReply[0] ? Number(waitReply[1]) : 0 };
}

/** The event's `client.publish` transition JSON (outbox.ts, the one format) cut around its id and its data. */
function clientPublishParts(event: OutgoingEvent & { publisher: string }): [head: string, middle: string, tail: string] {
  const json = transitionJson({ kind: 'client.publish', channel: event.channel, time: event.ts, id: ID_SLOT, publisher: event.publisher, data: DATA_SLOT });
  const [head, rest] = json.split(ID_SLOT) as [string, string];
  const [middle, tail] = rest.split(DATA_SLOT) as [string, string];
  return [head, middle, tail];
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
