import { isEventId, parseEventId } from '../../protocol/event-id.js';
import type { BusEvent } from '../bus.js';
import type { RedisClient } from './connections.js';
import { streamKey } from './keys.js';

/** Entries read per XRANGE: large enough that a full default history is one round trip, small enough not to block Redis. */
export const STREAM_PAGE_SIZE = 1000;

/** An XRANGE entry: `[id, [field, value, ...]]`. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * Reads the channel's stream from `start` (inclusive) to its end, one page at
 * a time; `pageSize` smaller than STREAM_PAGE_SIZE when the caller needs only a few.
 */
export async function* readStream(redis: RedisClient, channel: string, start: string, pageSize = STREAM_PAGE_SIZE): AsyncGenerator<StreamEntry[]> {
  let from = start;
  for (;;) {
    const page = (await redis.xrange(streamKey(channel), from, '+', 'COUNT', pageSize)) as StreamEntry[];
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    from = `(${page[page.length - 1]![0]}`;
  }
}

/** The event of a stream entry, with the same parts the publish script sent live. */
export function entryToEvent(channel: string, [id, fields]: StreamEntry): BusEvent | undefined {
  let data: string | undefined;
  let ts: string | undefined;
  let publisher: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'd') data = fields[i + 1];
    else if (fields[i] === 't') ts = fields[i + 1];
    else if (fields[i] === 'p') publisher = fields[i + 1];
  }
  if (data === undefined || ts === undefined) return undefined;
  const event: BusEvent = { channel, id, position: parseEventId(id), ts: Number(ts), data: Buffer.from(data) };
  if (publisher !== undefined && publisher !== '') event.publisher = publisher;
  return event;
}

const MAX_ID_PART = 18446744073709551615n;

/** Whether Redis can read `id` as a stream id (our shape, each part within 64 bits). */
export function isStreamId(id: string): boolean {
  if (!isEventId(id)) return false;
  const dash = id.indexOf('-');
  return BigInt(id.slice(0, dash)) <= MAX_ID_PART && BigInt(id.slice(dash + 1)) <= MAX_ID_PART;
}

/** The newest id in the channel's stream, or `0-0` when it holds nothing. */
export async function newestId(redis: RedisClient, channel: string): Promise<string> {
  const newest = (await redis.xrevrange(streamKey(channel), '+', '-', 'COUNT', 1)) as StreamEntry[];
  return newest[0]?.[0] ?? '0-0';
}

/**
 * Who a Redis server is, as far as its data goes: `run_id` changes on every
 * start; `master_replid` names the history it serves, and a promoted replica
 * keeps its old master's id as `master_replid2`. A failover (Sentinel, a
 * Cluster replica taking over) changes the run_id but continues the history;
 * a restart without persistence does not.
 */
export interface ServerIdentity {
  runId: string;
  replId: string;
  replId2: string;
}

/** The identity of the server `redis` is connected to (a node connection, not a Cluster client). */
export async function serverIdentity(redis: Pick<RedisClient, 'call'>): Promise<ServerIdentity> {
  const info = String(await redis.call('INFO', 'server', 'replication'));
  const field = (name: string) => new RegExp(`^${name}:(\\w+)`, 'm').exec(info)?.[1] ?? '';
  return { runId: field('run_id'), replId: field('master_replid'), replId2: field('master_replid2') };
}

/** Whether `now` may have lost what `before` held: another server (or a restart) that does not continue its history. */
export function lostHistory(before: ServerIdentity | undefined, now: ServerIdentity): boolean {
  if (before === undefined || now.runId === before.runId) return false;
  return now.replId !== before.replId && now.replId2 !== before.replId;
}
