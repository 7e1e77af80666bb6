import type { OutgoingEvent } from '../../engine/bus.js';
import { invalidChannel, isValidChannel } from '../../protocol/channel.js';
import { RelayError } from '../../protocol/errors.js';
import { MAX_JSON_DEPTH, compactJson, nestedDeeperThan, objectMembers, valueStart, type Span } from '../../protocol/raw-json.js';
import type { Config } from '../../runtime/config/schema.js';
import { parseJson, tooDeep } from '../plugins/json-body.js';
import { invalidIdempotencyKey, isIdempotencyKey } from './idempotency-key.js';

/** Per event, beyond its data: channel and idempotency key (up to 128 characters each), field names, punctuation. */
export const BATCH_EVENT_ENVELOPE_BYTES = 512;
/**
 * The largest batch body read. A batch is parsed and validated in one
 * synchronous pass that blocks the event loop (measured 60-90 ms for 16 MiB
 * of 1,000 events on a 2-core VM), so the full
 * product maxBatchEvents x maxEventBytes (64 MB with the defaults) is not
 * accepted in one request; larger batches are split by the producer.
 */
export const MAX_BATCH_BODY_BYTES = 16 * 1024 * 1024;

/** PROTOCOL.md v1.1: the only fields a batch event may have; any other is a 400 with its index. */
const EVENT_FIELDS = new Set(['channel', 'data', 'idempotencyKey']);

/** The body limit of `POST /v1/events`: room for a full batch, capped, but never smaller than one largest event. */
export function batchBodyLimit(config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>): number {
  const full = config.maxBatchEvents * (config.maxEventBytes + BATCH_EVENT_ENVELOPE_BYTES);
  return Math.max(config.maxEventBytes + BATCH_EVENT_ENVELOPE_BYTES, Math.min(full, MAX_BATCH_BODY_BYTES));
}

export interface BatchContext {
  /** The request's receive time: every event's `ts`. */
  ts: number;
  /** Whose idempotency keys these are (a digest of the publisher key). */
  idempotencyScope: string;
}

/** What the whole body tells about every event's data, found once instead of once per event. */
interface BodyFacts {
  /** Some value is nested deeper than data may be; only then is each data measured. */
  deep: boolean;
  /** The body has line breaks; only then may a data need compacting (JSON strings cannot hold raw ones). */
  multiLine: boolean;
}

/** Levels above an event's data in a batch body: the body, `events`, the event object. */
const DATA_LEVEL = 3;

/**
 * Validates a whole batch before anything is stored (PROTOCOL.md): the first
 * bad event rejects it, with `index` its position. `text` is the raw body:
 * JSON.parse validates it and gives the fields to check, and each event's
 * data is then cut out of the text itself, so that it is relayed as the
 * producer wrote it (numbers digit for digit), never re-encoded.
 */
export function batchEvents(text: string, context: BatchContext, config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>): OutgoingEvent[] {
  const body = parseJson(text);
  if (!isObject(body) || !Array.isArray(body.events)) {
    throw new RelayError('invalid_request', 'The body must be {"events":[{"channel","data"[,"idempotencyKey"]}, ...]}.');
  }
  const items: unknown[] = body.events;
  if (items.length === 0 || items.length > config.maxBatchEvents) {
    throw new RelayError('invalid_request', `A batch holds 1 to ${config.maxBatchEvents} events; it has ${items.length}.`);
  }
  const facts: BodyFacts = { deep: nestedDeeperThan(text, MAX_JSON_DEPTH + DATA_LEVEL), multiLine: /[\r\n]/.test(text) };
  // `events` exists: JSON.parse found it to be an array.
  let cursor = objectMembers(text, valueStart(text)).get('events')![0] + 1;
  return items.map((item, index) => {
    if (!isObject(item)) {
      throw new RelayError('invalid_request', 'Each event must be an object {"channel","data"[,"idempotencyKey"]}.', { index });
    }
    // Every event before this one was an object too, so the first "{" after the previous
    // event's last member is this event's own: one scan of the events, not one more per item.
    const at = text.indexOf('{', cursor);
    const members = objectMembers(text, at);
    cursor = at + 1;
    for (const [, end] of members.values()) if (end > cursor) cursor = end;
    return batchEvent(item, members, text, index, facts, context, config.maxEventBytes);
  });
}

function batchEvent(
  item: Record<string, unknown>,
  members: Map<string, Span>,
  text: string,
  index: number,
  facts: BodyFacts,
  context: BatchContext,
  maxEventBytes: number,
): OutgoingEvent {
  // The members are the object's own keys as written, JSON.parse's own keys (`__proto__` included).
  for (const field of members.keys()) {
    if (!EVENT_FIELDS.has(field)) {
      throw new RelayError('invalid_request', `An event has only "channel", "data" and "idempotencyKey"; this one has ${JSON.stringify(field)}.`, { index });
    }
  }
  const { channel, idempotencyKey } = item;
  if (typeof channel !== 'string') {
    throw new RelayError('invalid_request', 'Each event needs a string "channel".', { index });
  }
  if (!isValidChannel(channel)) {
    throw invalidChannel(channel, index);
  }
  // `"data": null` is an event whose data is null; only a missing field is an error.
  const span = members.get('data');
  if (span === undefined) {
    throw new RelayError('invalid_request', 'Each event needs a "data" field (null is allowed).', { index });
  }
  // A null key is treated as absent: many JSON encoders write optional fields that way.
  if (idempotencyKey !== undefined && idempotencyKey !== null && !isIdempotencyKey(idempotencyKey)) {
    throw invalidIdempotencyKey(index);
  }
  const raw = text.slice(span[0], span[1]);
  if (facts.deep && nestedDeeperThan(raw)) throw tooDeep(index);
  // Measured as stored: the producer's text, on one line.
  const data = facts.multiLine ? compactJson(raw) : raw;
  if (Buffer.byteLength(data) > maxEventBytes) {
    throw new RelayError('payload_too_large', `An event's data may be at most ${maxEventBytes} bytes.`, { index });
  }
  const { ts, idempotencyScope } = context;
  return typeof idempotencyKey === 'string' ? { channel, data, ts, idempotencyKey, idempotencyScope } : { channel, data, ts };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
