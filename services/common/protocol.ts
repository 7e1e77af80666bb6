import { isValidChannel } from './channel.js';
import { RelayError } from './errors.js';
import { isEventId } from './event-id.js';

/*
 * The WebSocket "event" message is the one thing sent millions of times, so
 * it is built once, where the event is stored, by string concatenation
 * around the id the store assigns:
 *   {"type":"event","channel":"<c>","id":"<id>","data":<data>,"ts":<ts>}
 * Channel names cannot contain characters that JSON would escape, and
 * `data` is already JSON text, so nothing here needs escaping.
 * The Redis Lua script builds the same bytes from the same two halves.
 */
export function eventFramePrefix(channel: string): string {
  return `{"type":"event","channel":"${channel}","id":"`;
}

export function eventFrameSuffix(data: string, ts: number): string {
  return `","data":${data},"ts":${ts}}`;
}

export function eventFrame(channel: string, id: string, data: string, ts: number): string {
  return eventFramePrefix(channel) + id + eventFrameSuffix(data, ts);
}

/** Pulls the id out of a frame built by `eventFrame` without parsing the JSON. */
export function idFromFrame(frame: Buffer, channel: string): string | undefined {
  // `{"type":"event","channel":"` is 27 bytes; then the channel, then `","id":"` (8 bytes).
  const start = 27 + Buffer.byteLength(channel) + 8;
  const end = frame.indexOf(0x22 /* " */, start);
  return end > start ? frame.toString('latin1', start, end) : undefined;
}

/** Turns JSON text into a single line so that it can stand in an SSE `data:` field. */
export function compactJson(text: string): string {
  return /[\r\n]/.test(text) ? JSON.stringify(JSON.parse(text)) : text;
}

export type ClientMessage =
  | { type: 'subscribe'; channel: string; since?: string }
  | { type: 'unsubscribe'; channel: string }
  | { type: 'ping' };

/**
 * Parses one client text frame, checking in the order PROTOCOL.md fixes:
 * JSON object (invalid_json), message shape (invalid_request), channel name
 * (invalid_channel). Permission and duplicate checks belong to the caller.
 */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RelayError('invalid_json', 'A frame must be one JSON object.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RelayError('invalid_json', 'A frame must be one JSON object.');
  }
  const msg = value as Record<string, unknown>;
  const channelHint = typeof msg.channel === 'string' ? { channel: msg.channel } : {};
  switch (msg.type) {
    case 'ping':
      return { type: 'ping' };
    case 'subscribe':
    case 'unsubscribe': {
      if (typeof msg.channel !== 'string') {
        throw new RelayError('invalid_request', `A ${msg.type} message needs a string "channel".`);
      }
      if (msg.type === 'subscribe' && msg.since !== undefined && !isEventId(msg.since)) {
        throw new RelayError('invalid_request', '"since" must be an event id this server issued.', channelHint);
      }
      if (!isValidChannel(msg.channel)) {
        throw new RelayError(
          'invalid_channel',
          'A channel name is 1 to 128 characters of A-Z, a-z, 0-9, "_", "-", "." and ":".',
          channelHint,
        );
      }
      if (msg.type === 'unsubscribe') return { type: 'unsubscribe', channel: msg.channel };
      return msg.since === undefined
        ? { type: 'subscribe', channel: msg.channel }
        : { type: 'subscribe', channel: msg.channel, since: msg.since as string };
    }
    default:
      throw new RelayError(
        'invalid_request',
        typeof msg.type === 'string' ? `Unknown message type "${msg.type.slice(0, 64)}".` : 'A message needs a string "type".',
        channelHint,
      );
  }
}

export function subscribedMessage(channel: string, recovered: boolean): string {
  return JSON.stringify({ type: 'subscribed', channel, recovered });
}

export function unsubscribedMessage(channel: string): string {
  return JSON.stringify({ type: 'unsubscribed', channel });
}

export const PONG_MESSAGE = '{"type":"pong"}';

export function errorMessage(err: RelayError): string {
  return JSON.stringify(
    err.channel === undefined
      ? { type: 'error', code: err.code, message: err.message }
      : { type: 'error', code: err.code, message: err.message, channel: err.channel },
  );
}

/** Close codes, PROTOCOL.md. */
export const CloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  unauthorized: 4001,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const;

/** The `ts` of a frame built by `eventFrame`, read from its tail without parsing the JSON. */
export function tsFromFrame(frame: Buffer): number | undefined {
  // The frame ends with `,"ts":<digits>}`.
  let end = frame.length - 1;
  if (frame[end] !== 0x7d /* } */) return undefined;
  let value = 0;
  let scale = 1;
  for (let i = end - 1; i >= 0; i--) {
    const c = frame[i]!;
    if (c >= 0x30 && c <= 0x39) {
      value += (c - 0x30) * scale;
      scale *= 10;
    } else return c === 0x3a /* : */ && scale > 1 ? value : undefined;
    end = i;
  }
  return undefined;
}
