import { objectMembers, valueStart } from '../raw-json.js';

/** What a Pusher client sends (pusher-js `channel.ts`, `user.ts`, `connection.ts`). */
export type PusherClientMessage =
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'subscribe'; channel: string; auth?: unknown; channelData?: unknown }
  | { type: 'unsubscribe'; channel: string }
  | { type: 'signin'; auth: unknown; userData: unknown }
  /** `data`: the string the client sent, or the JSON text of any other value, byte for byte. */
  | { type: 'client-event'; event: string; channel: unknown; data: string }
  | { type: 'unknown'; event: string };

/** A frame that cannot be understood; answered with `pusher:error` (code null), the socket stays. */
export class PusherFrameError extends Error {
  override name = 'PusherFrameError';
}

/** Client events are the only events a client may send besides `pusher:*` ones. */
export const CLIENT_EVENT_PREFIX = 'client-';

/**
 * Parses one text frame: a JSON object with a string `event`. The `data` of
 * `pusher:*` events is an object (pusher-js), or a JSON string of one
 * (older clients; reverb accepts both).
 */
export function parseClientFrame(text: string): PusherClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PusherFrameError('A frame must be a JSON object.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PusherFrameError('A frame must be a JSON object.');
  const frame = value as Record<string, unknown>;
  const event = frame.event;
  if (typeof event !== 'string') throw new PusherFrameError('A frame needs a string "event".');
  if (event.startsWith(CLIENT_EVENT_PREFIX)) {
    return { type: 'client-event', event, channel: frame.channel, data: rawData(text, frame.data) };
  }
  switch (event) {
    case 'pusher:ping':
      return { type: 'ping' };
    case 'pusher:pong':
      return { type: 'pong' };
    case 'pusher:subscribe':
    case 'pusher:unsubscribe': {
      const data = objectData(frame.data);
      if (typeof data.channel !== 'string') throw new PusherFrameError(`${event} needs data.channel.`);
      if (event === 'pusher:unsubscribe') return { type: 'unsubscribe', channel: data.channel };
      return { type: 'subscribe', channel: data.channel, auth: data.auth, channelData: data.channel_data };
    }
    case 'pusher:signin': {
      const data = objectData(frame.data);
      return { type: 'signin', auth: data.auth, userData: data.user_data };
    }
    default:
      return { type: 'unknown', event };
  }
}

function objectData(data: unknown): Record<string, unknown> {
  let value = data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new PusherFrameError('"data" must be an object.');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PusherFrameError('"data" must be an object.');
  return value as Record<string, unknown>;
}

/** A client event's data as Pusher forwards it: a string stays itself, any other value is its JSON text as the client wrote it. */
function rawData(text: string, data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined) return 'null';
  const span = objectMembers(text, valueStart(text)).get('data');
  return span ? text.slice(span[0], span[1]) : JSON.stringify(data);
}
