import { isValidChannel, invalidChannel } from './channel.js';
import { RelayError, type ErrorCode } from './errors.js';
import type { EventIds } from './event-id.js';
import { MAX_JSON_DEPTH, compactJson, nestedDeeperThan, objectMembers, valueStart } from './raw-json.js';

/** What a client may send over the WebSocket (PROTOCOL.md, Client to server; v1.1 publish and presence). */
export type ClientMessage =
  | { type: 'subscribe'; channel: string; since?: string; presence?: true }
  | { type: 'unsubscribe'; channel: string }
  | PublishMessage
  | { type: 'ping' };

export interface PublishMessage {
  type: 'publish';
  channel: string;
  /** The raw text of `data` as the client wrote it, made single-line: never re-encoded (numbers digit for digit). */
  data: string;
  /** Bytes of `data` as written in the frame (the MAX_EVENT_BYTES check, as the source-server's body limit counts them). */
  dataBytes: number;
  ref?: string;
  idempotencyKey?: string;
}

/** PROTOCOL.md v1.1: a publish `ref` is any string of at most 64 characters. */
export const MAX_REF_CHARS = 64;
/** PROTOCOL.md: an idempotency key is 1 to 128 visible ASCII characters (the source-server's Idempotency-Key rule). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

const NOT_AN_OBJECT = 'A frame must be one JSON object.';

/**
 * An error answering a message that carried a valid `ref`: the reply carries
 * it back (PROTOCOL.md v1.1, Client publish).
 */
export class RefError extends RelayError {
  constructor(
    err: RelayError,
    readonly ref: string,
  ) {
    super(err.code, err.message, { channel: err.channel, retryAfter: err.retryAfter, cause: err.cause });
  }
}

/** `err` about a message with `ref` (unchanged when there is none). */
export function withRef(err: RelayError, ref: string | undefined): RelayError {
  return ref === undefined || err instanceof RefError ? err : new RefError(err, ref);
}

/**
 * Parses one client text frame, checking in the order PROTOCOL.md fixes:
 * JSON object (invalid_json), message shape (invalid_request, including a
 * `since` that is not an id of `ids`), channel name (invalid_channel).
 * Permission, duplicate and size checks belong to the caller.
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
    case 'publish':
      return parsePublish(text, msg, channelHint);
    case 'subscribe':
    case 'unsubscribe': {
      if (typeof msg.channel !== 'string') {
        throw new RelayError('invalid_request', `A ${msg.type} message needs a string "channel".`);
      }
      if (msg.type === 'subscribe' && msg.since !== undefined && !ids.isValid(msg.since)) {
        throw new RelayError('invalid_request', '"since" must be an event id this server issued.', channelHint);
      }
      if (msg.type === 'subscribe' && msg.presence !== undefined && typeof msg.presence !== 'boolean') {
        throw new RelayError('invalid_request', '"presence" must be true or false.', channelHint);
      }
      if (!isValidChannel(msg.channel)) throw invalidChannel(msg.channel);
      if (msg.type === 'unsubscribe') return { type: 'unsubscribe', channel: msg.channel };
      const subscribe: ClientMessage = { type: 'subscribe', channel: msg.channel };
      if (msg.since !== undefined) subscribe.since = msg.since as string;
      if (msg.presence === true) subscribe.presence = true;
      return subscribe;
    }
    default:
      throw new RelayError(
        'invalid_request',
        typeof msg.type === 'string' ? `Unknown message type "${msg.type.slice(0, 64)}".` : 'A message needs a string "type".',
        channelHint,
      );
  }
}

/** `ref` first, so that every later error of the message carries it back. */
function parsePublish(text: string, msg: Record<string, unknown>, channelHint: { channel?: string }): PublishMessage {
  const { ref } = msg;
  if (ref !== undefined && (typeof ref !== 'string' || charCount(ref) > MAX_REF_CHARS)) {
    throw new RelayError('invalid_request', `"ref" must be a string of at most ${MAX_REF_CHARS} characters.`, channelHint);
  }
  const givenRef = ref as string | undefined;
  const refused = (message: string, hint: { channel?: string } = channelHint) => withRef(new RelayError('invalid_request', message, hint), givenRef);
  if (typeof msg.channel !== 'string') throw refused('A publish message needs a string "channel".', {});
  if (!('data' in msg)) throw refused('A publish message needs "data" (any JSON value).');
  const { idempotencyKey } = msg;
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey))) {
    throw refused('"idempotencyKey" must be 1 to 128 visible ASCII characters (no spaces).');
  }
  // The frame passed JSON.parse, so the spans are exact; a repeated "data" key resolves to the last, as in JSON.parse.
  const [start, end] = objectMembers(text, valueStart(text)).get('data')!;
  const raw = text.slice(start, end);
  if (nestedDeeperThan(raw)) throw refused(`"data" is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  if (!isValidChannel(msg.channel)) throw withRef(invalidChannel(msg.channel), givenRef);
  const message: PublishMessage = { type: 'publish', channel: msg.channel, data: compactJson(raw), dataBytes: Buffer.byteLength(raw) };
  if (givenRef !== undefined) message.ref = givenRef;
  if (idempotencyKey !== undefined) message.idempotencyKey = idempotencyKey;
  return message;
}

/** Characters as a person counts them (code points), not UTF-16 units. */
function charCount(text: string): number {
  return text.length <= MAX_REF_CHARS ? text.length : [...text].length;
}

/** `presence`: the reply's `presence` member, already JSON (presenceJson), when the subscribe asked for it. */
export function subscribedMessage(channel: string, recovered: boolean, presence?: string): string {
  const head = JSON.stringify({ type: 'subscribed', channel, recovered });
  return presence === undefined ? head : `${head.slice(0, -1)},"presence":${presence}}`;
}

/** PROTOCOL.md v1.1: `{"count","members":[{"user","info"}],"truncated"?}`; `truncated` only when true. */
export function presenceJson(count: number, members: readonly { user: string; info: Record<string, unknown> }[], truncated: boolean): string {
  const listed = members.map((m) => ({ user: m.user, info: m.info }));
  return JSON.stringify(truncated ? { count, members: listed, truncated: true } : { count, members: listed });
}

export function joinMessage(channel: string, user: string, info: Record<string, unknown>): string {
  return JSON.stringify({ type: 'join', channel, user, info });
}

export function leaveMessage(channel: string, user: string): string {
  return JSON.stringify({ type: 'leave', channel, user });
}

/** `replayed` (an addition, like the source-server's Idempotent-Replayed) only when an idempotency key answered. */
export function publishedMessage(channel: string, id: string, ref: string | undefined, replayed: boolean): string {
  const message: Record<string, unknown> = { type: 'published', channel, id };
  if (ref !== undefined) message.ref = ref;
  if (replayed) message.replayed = true;
  return JSON.stringify(message);
}

/** The SSE `disconnected` event's data (PROTOCOL.md v1.1, disconnect). */
export function disconnectedMessage(code: number): string {
  return JSON.stringify({ type: 'disconnected', code });
}

export function unsubscribedMessage(channel: string): string {
  return JSON.stringify({ type: 'unsubscribed', channel });
}

export const PONG_MESSAGE = '{"type":"pong"}';

export function errorMessage(err: { code: ErrorCode; message: string; channel?: string; ref?: string }): string {
  const message: Record<string, unknown> = { type: 'error', code: err.code, message: err.message };
  if (err.channel !== undefined) message.channel = err.channel;
  if (err.ref !== undefined) message.ref = err.ref;
  return JSON.stringify(message);
}
