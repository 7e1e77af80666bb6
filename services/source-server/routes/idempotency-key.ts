import { RelayError } from '../../protocol/errors.js';

/** PROTOCOL.md: an Idempotency-Key is 1 to 128 visible ASCII characters (0x21-0x7E). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

export function isIdempotencyKey(value: unknown): value is string {
  return typeof value === 'string' && IDEMPOTENCY_KEY_PATTERN.test(value);
}

/**
 * The `Idempotency-Key` header of a single-event publish, or undefined when
 * absent. A header sent twice reaches us joined with ", " and so fails the
 * pattern: two keys for one event is a client bug worth reporting.
 */
export function idempotencyKeyHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isIdempotencyKey(value)) throw invalidIdempotencyKey();
  return value;
}

export function invalidIdempotencyKey(index?: number): RelayError {
  return new RelayError('invalid_request', 'An idempotency key is 1 to 128 visible ASCII characters (no spaces).', { index });
}
