import { isValidChannel, invalidChannel } from './channel.js';
import { RelayError, type ErrorCode } from './errors.js';
import type { EventIds } from './event-id.js';

/** What a client may send over the WebSocket (PROTOCOL.md, Client to server). */
export type ClientMessage =
  | { type: 'subscribe'; channel: string; since?: string }
  | { type: 'unsubscribe'; channel: string }
  | { type: 'ping' };

const NOT_AN_OBJECT = 'A frame must be one JSON object.';

/**
 * Parses one client text frame, checking in the order PROTOCOL.md fixes:
 * JSON object (invalid_json), message shape (invalid_request, including a
 * `since` that is not an id of `ids`), channel name (invalid_channel).
 * Permission and duplicate checks belong to the caller.
 */
export function parseClientMessage(text: string, ids: EventIds): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RelayError('invalid_json', NOT_AN_OBJECT);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RelayError('invalid_json', NOT_AN_OBJECT);
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
      if (msg.type === 'subscribe' && msg.since !== undefined && !ids.isValid(msg.since)) {
        throw new RelayError('invalid_request', '"since" must be an event id this server issued.', channelHint);
      }
      if (!isValidChannel(msg.channel)) throw invalidChannel(msg.channel);
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

export function errorMessage(err: { code: ErrorCode; message: string; channel?: string }): string {
  return JSON.stringify(
    err.channel === undefined
      ? { type: 'error', code: err.code, message: err.message }
      : { type: 'error', code: err.code, message: err.message, channel: err.channel },
  );
}
