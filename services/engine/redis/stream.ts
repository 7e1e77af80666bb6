import type { Redis } from 'ioredis';
import { isEventId, parseEventId } from '../../protocol/event-id.js';
import type { BusEvent } from '../bus.js';
import { streamKey } from './keys.js';

/** Entries read per XRANGE: large enough that a full default history is one round trip, small enough not to block Redis. */
export const STREAM_PAGE_SIZE = 1000;

/** An XRANGE entry: `[id, [field, value, ...]]`. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * Reads the channel's stream from `start` (inclusive) to its end, one page at
 * a time; `pageSize` smaller than STREAM_PAGE_SIZE when the caller needs only a few.
 */
export async function* readStream(redis: Redis, channel: string, start: string, pageSize = STREAM_PAGE_SIZE): AsyncGenerator<StreamEntry[]> {
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
export async function newestId(redis: Redis, channel: string): Promise<string> {
  const newest = (await redis.xrevrange(streamKey(channel), '+', '-', 'COUNT', 1)) as StreamEntry[];
  return newest[0]?.[0] ?? '0-0';
}

/** The server's `run_id`, which changes whenever Redis restarts. */
export async function serverRunId(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /^run_id:(\w+)/m.exec(info)?.[1] ?? '';
}
