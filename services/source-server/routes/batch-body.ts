import type { OutgoingEvent } from '../../engine/bus.js';
import { invalidChannel, isValidChannel } from '../../protocol/channel.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
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

/** The body limit of `POST /v1/events`: room for a full batch, capped, but never smaller than one largest event. */
export function batchBodyLimit(config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>): number {
  const full = config.maxBatchEvents * (config.maxEventBytes + BATCH_EVENT_ENVELOPE_BYTES);
  return Math.max(config.maxEventBytes + BATCH_EVENT_ENVELOPE_BYTES, Math.min(full, MAX_BATCH_BODY_BYTES));
}

/**
 * Validates a whole batch before anything is stored (PROTOCOL.md): the first
 * bad event rejects it, with `index` its position. Each event's data is
 * serialized here, once; `ts` is the request's receive time.
 */
export function batchEvents(
  body: unknown,
  ts: number,
  config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>,
): OutgoingEvent[] {
  if (!isObject(body) || !Array.isArray(body.events)) {
    throw new RelayError('invalid_request', 'The body must be {"events":[{"channel","data"[,"idempotencyKey"]}, ...]}.');
  }
  const items: unknown[] = body.events;
  if (items.length === 0 || items.length > config.maxBatchEvents) {
    throw new RelayError('invalid_request', `A batch holds 1 to ${config.maxBatchEvents} events; it has ${items.length}.`);
  }
  return items.map((item, index) => batchEvent(item, index, ts, config.maxEventBytes));
}

function batchEvent(item: unknown, index: number, ts: number, maxEventBytes: number): OutgoingEvent {
  if (!isObject(item)) {
    throw new RelayError('invalid_request', 'Each event must be an object {"channel","data"[,"idempotencyKey"]}.', { index });
  }
  const { channel, idempotencyKey } = item;
  if (typeof channel !== 'string') {
    throw new RelayError('invalid_request', 'Each event needs a string "channel".', { index });
  }
  if (!isValidChannel(channel)) {
    throw invalidChannel(channel, index);
  }
  // `"data": null` is an event whose data is null; only a missing field is an error.
  if (!Object.hasOwn(item, 'data')) {
    throw new RelayError('invalid_request', 'Each event needs a "data" field (null is allowed).', { index });
  }
  // A null key is treated as absent: many JSON encoders write optional fields that way.
  if (idempotencyKey !== undefined && idempotencyKey !== null && !isIdempotencyKey(idempotencyKey)) {
    throw invalidIdempotencyKey(index);
  }
  const data = JSON.stringify(item.data);
  if (Buffer.byteLength(data) > maxEventBytes) {
    throw new RelayError('payload_too_large', `An event's data may be at most ${maxEventBytes} bytes.`, { index });
  }
  return typeof idempotencyKey === 'string' ? { channel, data, ts, idempotencyKey } : { channel, data, ts };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
