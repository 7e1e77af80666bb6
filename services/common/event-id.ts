/**
 * Event ids have the shape of Redis stream ids, `<ms>-<seq>`, in both buses,
 * so a client can resume on any server whatever the bus behind it.
 * Clients treat them as opaque; the servers compare them numerically.
 */
export const EVENT_ID_PATTERN = /^(\d{1,20})-(\d{1,20})$/;

export interface ParsedEventId {
  ms: number;
  seq: number;
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value);
}

/** Parses an id already known to have the right shape. */
export function parseEventId(id: string): ParsedEventId {
  const dash = id.indexOf('-');
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) };
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareParsedIds(a: ParsedEventId, b: ParsedEventId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

export function compareEventIds(a: string, b: string): number {
  return compareParsedIds(parseEventId(a), parseEventId(b));
}

export const ZERO_ID: ParsedEventId = Object.freeze({ ms: 0, seq: 0 });
