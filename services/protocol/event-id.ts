/**
 * Event ids are opaque to clients (PROTOCOL.md). The servers need to order
 * them, and how depends on the bus: an `EventIds` codec says which strings
 * are ids and how their positions compare, so a bus with another id shape
 * can exist behind the same interface.
 *
 * Both buses shipped today issue Redis stream ids, `<ms>-<seq>`, so that a
 * client can resume on any server whatever the bus behind it: `STREAM_IDS`.
 */
export interface EventIds<P = unknown> {
  /** Whether `value` has the shape of the ids this server issues. */
  isValid(value: unknown): value is string;
  /** The position of an id already known to be valid. */
  parse(id: string): P;
  /** Negative when a < b, zero when equal, positive when a > b. */
  compare(a: P, b: P): number;
  /** A position before every id ever issued (a subscription that has sent nothing). */
  readonly zero: P;
}

export const EVENT_ID_PATTERN = /^(\d{1,20})-(\d{1,20})$/;

export interface StreamPosition {
  ms: number;
  seq: number;
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value);
}

/** Parses an id already known to have the right shape. */
export function parseEventId(id: string): StreamPosition {
  const dash = id.indexOf('-');
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) };
}

export function compareParsedIds(a: StreamPosition, b: StreamPosition): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

export function compareEventIds(a: string, b: string): number {
  return compareParsedIds(parseEventId(a), parseEventId(b));
}

export const ZERO_ID: StreamPosition = Object.freeze({ ms: 0, seq: 0 });

export const STREAM_IDS: EventIds<StreamPosition> = {
  isValid: isEventId,
  parse: parseEventId,
  compare: compareParsedIds,
  zero: ZERO_ID,
};
