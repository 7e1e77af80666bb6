/**
 * The subscriber side of the wire protocol (PROTOCOL.md, "WebSocket /v1/ws"),
 * as the SDK's users see it. Event ids are opaque strings: the SDK stores
 * them and hands them back as `since`, and never parses them.
 */

/** One event of a channel, exactly as the server sent it. */
export interface RelayEvent<T = unknown> {
  channel: string;
  id: string;
  data: T;
  /** The source-server's receive time, milliseconds since the epoch. */
  ts: number;
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
  /** The id the subscription resumed after, if any. */
  since?: string;
  /** True when this `subscribed` follows a reconnect rather than the first subscribe. */
  resumed: boolean;
}

/** An error the server reported, or one the SDK raised; `code` is from PROTOCOL.md. */
export interface RelayErrorInfo {
  code: string;
  message: string;
  channel?: string;
  /** The close code, when the error ended the connection. */
  closeCode?: number;
}

/**
 * - `connecting`: the first connection is being opened.
 * - `open`: connected; subscriptions are (re)sent.
 * - `reconnecting`: the connection was lost; the next attempt is scheduled.
 * - `closed`: stopped for good, by `close()` or by a close code that forbids retrying.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** The close code that caused this change, if any. */
  closeCode?: number;
  /** Milliseconds until the next attempt (state `reconnecting`). */
  delayMs?: number;
  /** Consecutive failed attempts so far. */
  attempt?: number;
  /** Set when the state is `closed` because of an error. */
  error?: RelayErrorInfo;
}

/** Server-to-client messages (PROTOCOL.md). */
export type ServerMessage =
  | { type: 'subscribed'; channel: string; recovered: boolean }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'event'; channel: string; id: string; data: unknown; ts: number }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string; channel?: string };

/** PROTOCOL.md close codes the client acts on. */
export const CloseCodes = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  unauthorized: 4001,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const;
