import type { Redis } from 'ioredis';
import type { OutgoingEvent, PublishResult } from '../bus.js';
import { transitionJson } from '../outbox.js';
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
export async function runPublishScript(redis: Redis, events: readonly OutgoingEvent[], limits: PublishLimits): Promise<PublishResult[]> {
  const keys: string[] = [];
  const args: string[] = [String(limits.historySize), String(limits.historyTtlSeconds), String(limits.idempotencyTtlSeconds)];
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
  const call = (redis as unknown as Record<string, ScriptCaller>)[COMMAND];
  if (typeof call !== 'function') throw new Error('the publish script is not defined on this connection');
  // Marked before (dying after the script loses nothing) and after (a dispatcher that finished in between looks again): outbox-mark.ts.
  const marks = [...outboxes];
  await markOutboxes(redis, marks, Date.now());
  const reply = await call.call(redis, keys.length, ...keys, ...args);
  // The events are stored: a failed second mark must not turn that into an error; the first mark (or the repair) covers it.
  await markOutboxes(redis, marks, Date.now()).catch(() => {});
  return parseReply(reply, events);
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
