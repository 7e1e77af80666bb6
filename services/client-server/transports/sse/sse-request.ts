import type { FastifyRequest } from 'fastify';
import { assertChannel } from '../../../protocol/channel.js';
import { RelayError } from '../../../protocol/errors.js';
import type { EventIds } from '../../../protocol/event-id.js';
import { StreamCursor } from './stream-cursor.js';

/** What an SSE request asks for, once its shape is checked (PROTOCOL.md, 400s). */
export interface SseRequest {
  /** In the order the request listed them. */
  channels: string[];
  /** Each channel's `since` when resuming (`0-0` for a channel the cursor has no position of); undefined entries otherwise. */
  since: Map<string, string | undefined>;
  /** Whether a cursor (or id) was given at all: then every channel resumes. */
  resuming: boolean;
  presence: boolean;
  /** Multi-channel streams (`GET /v1/sse?channels=`) send cursors as ids. */
  multi: boolean;
}

type Query = Record<string, unknown>;

/** The `Last-Event-ID` header, or `?since=` (the header wins when both are given). */
function cursorOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as Query).since;
  return typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
}

function presenceOf(request: FastifyRequest): boolean {
  const value = (request.query as Query).presence;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new RelayError('invalid_request', '?presence= must be true or false.');
}

/** `GET /v1/sse/{channel}`: a bad channel name (invalid_channel), then a bad `since` shape (invalid_request). */
export function singleChannelRequest(request: FastifyRequest, ids: EventIds): SseRequest {
  const channel = assertChannel((request.params as { channel: string }).channel);
  const since = cursorOf(request);
  if (since !== undefined && !ids.isValid(since)) {
    throw new RelayError('invalid_request', 'Last-Event-ID / since must be an event id this server issued.', { channel });
  }
  return { channels: [channel], since: new Map([[channel, since]]), resuming: since !== undefined, presence: presenceOf(request), multi: false };
}

/**
 * `GET /v1/sse?channels=a,b,c` (PROTOCOL.md v1.1): over all channels, any
 * bad name (invalid_channel), then a bad cursor, then more channels than
 * `max` (both invalid_request). A cursor of another channel set is a bad
 * cursor. With one channel, a plain event id is accepted as `since` too.
 */
export function multiChannelRequest(request: FastifyRequest, ids: EventIds, max: number): SseRequest {
  const listed = (request.query as Query).channels;
  if (typeof listed !== 'string' || listed === '') {
    throw new RelayError('invalid_request', 'List the channels: /v1/sse?channels=a,b,c.');
  }
  const channels = listed.split(',').map((c) => assertChannel(c));
  if (new Set(channels).size !== channels.length) throw new RelayError('invalid_request', 'A channel is listed twice.');
  const text = cursorOf(request);
  let since = new Map<string, string | undefined>(channels.map((c) => [c, undefined]));
  if (text !== undefined) {
    const decoded = channels.length === 1 && ids.isValid(text) ? new Map([[channels[0]!, text]]) : StreamCursor.decode(text, channels);
    if (!decoded) throw new RelayError('invalid_request', 'Last-Event-ID / since must be a cursor this stream sent, for the same channels.');
    since = decoded;
  }
  if (channels.length > max) {
    throw new RelayError('invalid_request', `A stream may hold at most ${max} channels (MAX_SUBSCRIPTIONS_PER_CONNECTION).`);
  }
  return { channels, since, resuming: text !== undefined, presence: presenceOf(request), multi: true };
}
