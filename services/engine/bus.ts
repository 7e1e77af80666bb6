import type { EventIds } from '../protocol/event-id.js';
import type { PresenceChange } from './presence.js';

/** An event handed to the bus for storage. Its data was serialized once, at the source. */
export interface OutgoingEvent {
  channel: string;
  /** The event's `data` as single-line JSON text, exactly as it will appear on the wire. */
  data: string;
  /** The source-server's receive time, ms since the epoch. */
  ts: number;
  /** Optional Idempotency-Key; scoped to the channel (and to `idempotencyScope`). */
  idempotencyKey?: string;
  /**
   * Who the key belongs to (a digest of the publisher key, a token's sub):
   * the same key from another scope is another key. Absent: the channel only.
   */
  idempotencyScope?: string;
  /** The `sub` of the client that published it (PROTOCOL.md v1.1 client publish). */
  publisher?: string;
}

export interface PublishResult {
  channel: string;
  id: string;
  /** True when an earlier event with the same idempotency key answered instead. */
  replayed: boolean;
}

/**
 * A stored event as a subscriber-side handler receives it: the producer's
 * bytes plus the id and ts decoded once by the bus. Wire forms (WebSocket
 * frames, SSE text) are the client-server's business, built from these.
 */
export interface BusEvent {
  channel: string;
  id: string;
  /** `id` parsed once by the bus's `ids`, so that per-subscriber ordering compares positions. */
  position: unknown;
  ts: number;
  /** The event's data: single-line JSON text. */
  data: Buffer;
  publisher?: string;
}

export interface HistoryResult {
  /** True exactly when the event `since` itself is still held (PROTOCOL.md, Precise rules). */
  recovered: boolean;
  /** The held events after `since`, in id order: all of them, or the first `limit`. */
  events: BusEvent[];
  /** With a `limit`: true when it cut the list short (later events are held too). Absent without one. */
  more?: boolean;
}

export interface BusHandler {
  /** A live event. Ids arrive strictly increasing per channel. Must not throw. */
  onEvent(event: BusEvent): void;
  /**
   * The bus cannot prove that no event was missed on `channel` since the last
   * one it delivered (history was lost while live delivery was interrupted,
   * e.g. a Redis restart without persistence). Subscribers must be told to
   * resume with `since`, which will answer `recovered:false`.
   */
  onGap(channel: string): void;
  /** A presence transition of `channel` (presence.ts), delivered once per transition to each subscribed bus. */
  onPresence?(channel: string, change: PresenceChange): void;
  /**
   * Live delivery of `channel` was interrupted (the bus reconnected) and has
   * caught up: every held event after the last one delivered was backfilled
   * (or `onGap` was called). Presence transitions are kept in no history, so
   * some may have been missed: a handler showing presence reads it again.
   * A bus that never reconnects (memory) never calls it.
   */
  onResume?(channel: string): void;
}

export interface BusHealth {
  ok: boolean;
  /** Why not ok, for /readyz and logs. */
  reason?: string;
}

/**
 * The channel between source-servers and client-servers.
 *
 * Guarantees, for every implementation (test/engine/contract.ts checks them):
 * - `publish` resolves only after every event is stored in its channel's
 *   history, and then it is delivered live to every subscribed handler.
 *   The events of one channel in a batch are stored all or nothing (on one
 *   Redis and in memory the whole batch is); when only part of a batch
 *   could be stored (a Redis Cluster slot down) it rejects `unavailable`
 *   with `results` naming each event's fate (RelayError.results).
 * - Ids are strictly increasing per channel as `ids.compare` orders them
 *   (both buses here issue Redis stream ids `<ms>-<seq>`, so that a client
 *   can resume on any server); per channel, live events reach a handler in
 *   id order, each once, including across a reconnect of the bus (the bus
 *   backfills from history what it missed, or calls `onGap` when it cannot
 *   prove it missed nothing).
 * - An event published after `subscribe` resolved is delivered.
 * - `history(channel, since)` returns every held event after `since`;
 *   history loses only its oldest events (trim, TTL) or all of them (a
 *   store restart without persistence).
 * - One subscription per channel per bus: the caller reference-counts its
 *   own subscribers and calls `subscribe` on the first, `unsubscribe` on the last.
 */
export interface Bus {
  /** How this bus's ids are recognised and ordered. */
  readonly ids: EventIds;
  publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]>;
  subscribe(channel: string, handler: BusHandler): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** The held events after `since` (at most `limit`, default all). */
  history(channel: string, since: string, limit?: number): Promise<HistoryResult>;
  /** The newest `limit` held events, in id order (the server API's latest page, a channel's last id). */
  latest(channel: string, limit: number): Promise<BusEvent[]>;
  health(): BusHealth;
  /** Releases what the bus registered; never closes connections it was given. */
  close(): Promise<void>;
}
