import type { PresenceChange } from '../presence.js';

/**
 * What travels on a channel's pub/sub topic: a small fixed header, then the
 * event's bytes, so that a subscriber decodes id and ts without parsing JSON
 * and forwards the data as it arrived (serialize once):
 *
 *   1 <id> <ts> <publisher byte length>\n<publisher><data>
 *
 * `1` is the format's version, so that a later format can be told apart
 * during a rolling upgrade. The publish script (publish.ts) writes it.
 */
export interface DecodedBusMessage {
  id: string;
  ts: number;
  /** Empty when a server (not a client) published. */
  publisher: string;
  /** A view into the message, not a copy. */
  data: Buffer;
}

const VERSION = 0x31; // "1"
const PRESENCE = 0x70; // "p"
const SPACE = 0x20;
const NEWLINE = 0x0a;
/** `1 ` + the longest id (20 + 1 + 20 digits) + ts + length fields: no real header is longer. */
const MAX_HEADER_BYTES = 80;

/**
 * A presence transition rides the same topic (presence-scripts.ts), so that
 * one subscription per channel carries both: `p` then the change's JSON.
 */
export function isPresenceMessage(message: Buffer): boolean {
  return message[0] === PRESENCE;
}

export function decodePresenceMessage(message: Buffer): PresenceChange | undefined {
  try {
    const value = JSON.parse(message.toString('utf8', 1)) as { type?: unknown; user?: unknown; info?: unknown };
    if (typeof value.user !== 'string') return undefined;
    if (value.type === 'leave') return { type: 'leave', user: value.user };
    if (value.type === 'join' && value.info !== null && typeof value.info === 'object' && !Array.isArray(value.info)) {
      return { type: 'join', user: value.user, info: value.info as Record<string, unknown> };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The header as the publish script builds it; used by tests and by publishers outside Lua. */
export function encodeBusMessage(id: string, ts: number, publisher: string, data: string): Buffer {
  return Buffer.from(`1 ${id} ${ts} ${Buffer.byteLength(publisher)}\n${publisher}${data}`);
}

/** The message's parts, or undefined when it is not a message of this format (logged and dropped by the caller). */
export function decodeBusMessage(message: Buffer): DecodedBusMessage | undefined {
  if (message[0] !== VERSION || message[1] !== SPACE) return undefined;
  const idEnd = message.indexOf(SPACE, 2);
  if (idEnd < 0 || idEnd > MAX_HEADER_BYTES) return undefined;
  const tsEnd = message.indexOf(SPACE, idEnd + 1);
  if (tsEnd < 0 || tsEnd > MAX_HEADER_BYTES) return undefined;
  const headerEnd = message.indexOf(NEWLINE, tsEnd + 1);
  if (headerEnd < 0 || headerEnd > MAX_HEADER_BYTES) return undefined;
  const ts = Number(message.toString('latin1', idEnd + 1, tsEnd));
  const publisherBytes = Number(message.toString('latin1', tsEnd + 1, headerEnd));
  const dataStart = headerEnd + 1 + publisherBytes;
  if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(publisherBytes) || dataStart > message.length) return undefined;
  return {
    id: message.toString('latin1', 2, idEnd),
    ts,
    publisher: publisherBytes === 0 ? '' : message.toString('utf8', headerEnd + 1, dataStart),
    data: message.subarray(dataStart),
  };
}
