import { objectMembers, valueStart } from '../raw-json.js';

/**
 * How a Pusher event is stored on its native channel, so that one history
 * and one bus serve both protocols: the native event's `data` is
 *   {"event":"<pusher event name>","data":"<pusher data string, verbatim>"}
 * plus `"exclude":"<socket_id>"` for an HTTP trigger with `socket_id`, and
 * `"client":{"socket_id":…[,"user_id":…]}` for a client event. `data` stays
 * a string: exact byte for byte (encrypted payloads, big numbers) and
 * unambiguous on the way back. Both ids travel in the stored data, so the
 * exclusion works on every client-server without a bus change.
 *
 * Native events on a Pusher channel that are not of this shape reach Pusher
 * clients as NATIVE_EVENT_NAME with the native data's JSON text as `data`.
 */
export interface PusherEnvelope {
  event: string;
  data: string;
  /** The socket that must not receive it (HTTP API `socket_id`). */
  exclude?: string;
  /** Set for client events: the sender (which is not sent its own event) and its presence user id. */
  client?: { socketId: string; userId?: string };
}

/** The Pusher event name a native producer's plain data arrives under. */
export const NATIVE_EVENT_NAME = 'message';

/** Event names no publisher may use: they would forge member lists or subscription state in clients. */
export function isReservedEventName(name: string): boolean {
  return name.startsWith('pusher:') || name.startsWith('pusher_internal:');
}

export function encodeEnvelope(envelope: PusherEnvelope): string {
  const value: Record<string, unknown> = { event: envelope.event, data: envelope.data };
  if (envelope.exclude !== undefined) value.exclude = envelope.exclude;
  if (envelope.client) {
    value.client = envelope.client.userId === undefined ? { socket_id: envelope.client.socketId } : { socket_id: envelope.client.socketId, user_id: envelope.client.userId };
  }
  return JSON.stringify(value);
}

/**
 * A stored native event's data (valid JSON text) as the Pusher event it
 * stands for, or undefined when it must not reach Pusher clients (a
 * reserved event name). Native `{"event":"x","data":<any>}` is event `x`
 * with `data` the string itself, or the raw JSON text of any other value.
 */
export function decodeEnvelope(text: string): PusherEnvelope | undefined {
  const start = valueStart(text);
  if (text.charCodeAt(start) !== 0x7b /* { */) return { event: NATIVE_EVENT_NAME, data: text };
  const members = objectMembers(text, start);
  const eventSpan = members.get('event');
  const dataSpan = members.get('data');
  if (!eventSpan || !dataSpan || text.charCodeAt(eventSpan[0]) !== 0x22) return { event: NATIVE_EVENT_NAME, data: text };
  const event = JSON.parse(text.slice(eventSpan[0], eventSpan[1])) as string;
  if (isReservedEventName(event)) return undefined;
  const rawData = text.slice(dataSpan[0], dataSpan[1]);
  const envelope: PusherEnvelope = { event, data: text.charCodeAt(dataSpan[0]) === 0x22 ? (JSON.parse(rawData) as string) : rawData };
  const exclude = stringMember(text, members.get('exclude'));
  if (exclude !== undefined) envelope.exclude = exclude;
  const clientSpan = members.get('client');
  if (clientSpan && text.charCodeAt(clientSpan[0]) === 0x7b) {
    const client = objectMembers(text, clientSpan[0]);
    const socketId = stringMember(text, client.get('socket_id'));
    if (socketId !== undefined) {
      const userId = stringMember(text, client.get('user_id'));
      envelope.client = userId === undefined ? { socketId } : { socketId, userId };
    }
  }
  return envelope;
}

function stringMember(text: string, span: readonly [number, number] | undefined): string | undefined {
  if (!span || text.charCodeAt(span[0]) !== 0x22) return undefined;
  return JSON.parse(text.slice(span[0], span[1])) as string;
}
