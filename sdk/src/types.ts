/**
 * The subscriber side of the wire protocol (PROTOCOL.md v1.1, "WebSocket
 * /v1/ws", "Presence", "Client publish"), as the SDK's users see it. Event
 * ids and stream cursors are opaque strings: the SDK stores them and hands
 * them back, and never parses them.
 */

/** One event of a channel, exactly as the server sent it. */
export interface RelayEvent<T = unknown> {
  channel: string;
  id: string;
  data: T;
  /** The source-server's receive time, milliseconds since the epoch. */
  ts: number;
  /** The token `sub` of the client that published it over a WebSocket; absent for events from the source-server. */
  publisher?: string;
}

/** One user present in a channel, with the `info` claim of its token. */
export interface PresenceMember {
  user: string;
  info: Record<string, unknown>;
}

/** Who is present in a channel, as this client knows it now. */
export interface PresenceSnapshot {
  /** Distinct users present (may exceed `members.length` when `truncated`). */
  count: number;
  members: PresenceMember[];
  /** True when the server listed only the first 1,000 members. */
  truncated: boolean;
}

/**
 * A change of a channel's presence: `sync` when a (re)subscribe delivered the
 * full member list, `join` / `leave` when another user came or went.
 */
export interface PresenceChange {
  channel: string;
  type: 'sync' | 'join' | 'leave';
  /** The user who joined or left (absent for `sync`). */
  user?: string;
  /** The joining user's info (only for `join`). */
  info?: Record<string, unknown>;
  /** The member list after the change. */
  presence: PresenceSnapshot;
}

/** Why `subscribed` was sent: `recovered:false` means events may have been missed since `since`. */
export interface SubscribedInfo {
  channel: string;
  /**
   * False when the subscription resumed from an id the server no longer
   * holds (trimmed, expired, lost in a restart): the application may have
   * missed events and should reload its state.
   */
  recovered: boolean;
  /** The id (or stream cursor) the subscription resumed after, if any. */
  since?: string;
  /** True when this `subscribed` follows a reconnect rather than the first subscribe. */
  resumed: boolean;
  /** The channel's members, when subscribed with `presence: true`. */
  presence?: PresenceSnapshot;
}

/** What a publish over the WebSocket resolves with: the stored event's id. */
export interface PublishedInfo {
  channel: string;
  id: string;
  ref: string;
}

/** An error the server reported, or one the SDK raised; `code` is from PROTOCOL.md or one of the SDK's own. */
export interface RelayErrorInfo {
  code: string;
  message: string;
  channel?: string;
  /** The `ref` of the publish this error answers. */
  ref?: string;
  /** The close code, when the error ended the connection. */
  closeCode?: number;
  /** The HTTP status, when the server refused the WebSocket upgrade or the SSE request with one. */
  status?: number;
}

/**
 * - `connecting`: the first connection is being opened.
 * - `open`: connected; subscriptions are (re)sent.
 * - `reconnecting`: the connection was lost or could not be opened; the next attempt is scheduled.
 * - `closed`: stopped for good, by `close()` or by a failure that retrying cannot fix.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** The close code that caused this change, if any. */
  closeCode?: number;
  /** Why the connection was lost or refused, as far as this runtime can tell ("connection refused (ECONNREFUSED)", a close reason, a server message). */
  reason?: string;
  /** The HTTP status of a refused upgrade or stream request, when the runtime exposes it. */
  status?: number;
  /** Milliseconds until the next attempt (state `reconnecting`). */
  delayMs?: number;
  /** Consecutive failed attempts so far. */
  attempt?: number;
  /** Set when the state is `closed` because of an error. */
  error?: RelayErrorInfo;
}

/** Server-to-client messages (PROTOCOL.md v1.1). */
export type ServerMessage =
  | { type: 'subscribed'; channel: string; recovered: boolean; presence?: { count: number; members: PresenceMember[]; truncated?: boolean } }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'event'; channel: string; id: string; data: unknown; ts: number; publisher?: string }
  | { type: 'published'; channel: string; id: string; ref?: string }
  | { type: 'join'; channel: string; user: string; info?: Record<string, unknown> }
  | { type: 'leave'; channel: string; user: string }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string; channel?: string; ref?: string };

/** PROTOCOL.md close codes the client acts on. */
export const CloseCodes = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  unauthorized: 4001,
  /** Disconnected by the operator (server API): do not reconnect with the same token. */
  disconnected: 4003,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const;

/** The event as handed to users: the wire message without `type`, `publisher` only when present. */
export function toRelayEvent(msg: { channel: string; id: string; data: unknown; ts: number; publisher?: string }): RelayEvent<never> {
  const event: RelayEvent<unknown> = { channel: msg.channel, id: msg.id, data: msg.data, ts: msg.ts };
  if (typeof msg.publisher === 'string') event.publisher = msg.publisher;
  return event as RelayEvent<never>;
}
