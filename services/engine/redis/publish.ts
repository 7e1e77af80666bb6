import type { Redis } from 'ioredis';
import type { OutgoingEvent, PublishResult } from '../bus.js';
import { idempotencyKey, streamKey, topicName } from './keys.js';
import { PUBLISH_SCRIPT } from './scripts/publish-script.js';

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
export async function runPublishScript(redis: Redis, events: readonly OutgoingEvent[], limits: PublishLimits): Promise<PublishResult[]> {
  const keys: string[] = [];
  const args: string[] = [String(limits.historySize), String(limits.historyTtlSeconds), String(limits.idempotencyTtlSeconds)];
  for (const event of events) {
    keys.push(streamKey(event.channel));
    const keyed = event.idempotencyKey !== undefined;
    if (keyed) keys.push(idempotencyKey(event.channel, event.idempotencyKey!, event.idempotencyScope));
    args.push(keyed ? '1' : '0', topicName(event.channel), event.data, String(event.ts), event.publisher ?? '');
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
