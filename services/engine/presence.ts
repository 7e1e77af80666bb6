/** A JSON object, as a token's `info` claim is (PROTOCOL.md v1.1: at most 1 KiB). */
export type JsonObject = Record<string, unknown>;

export interface PresenceMember {
  /** The token's `sub`. */
  user: string;
  info: JsonObject;
}

export interface PresenceEntry extends PresenceMember {
  /** How many connections of this user are in the channel, on every client-server. */
  connections: number;
}

export interface PresenceSnapshot {
  /** Distinct users in the channel. */
  count: number;
  /** At most the requested number, by user id. */
  members: PresenceEntry[];
  /** True when `count` exceeds the members listed. */
  truncated: boolean;
}

/** A user's first connection in a channel arrived, or its last one left, anywhere in the deployment. */
export type PresenceChange = { type: 'join'; user: string; info: JsonObject } | { type: 'leave'; user: string };

/**
 * Who is in each channel, across every client-server (PROTOCOL.md v1.1, Presence).
 *
 * Guarantees, for every implementation (test/engine/presence-contract.ts):
 * - Members are users; a user with several connections (on one or several
 *   client-servers) is one member. `join` of a user's first connection
 *   anywhere and `leave` of its last one are transitions: each is delivered
 *   once to every client-server subscribed to the channel on the bus
 *   (`BusHandler.onPresence`), and, when webhooks are configured, appended
 *   once to the channel's webhook outbox (`presence.join` / `presence.leave`).
 * - A clean `leave` (or the connection closing) is a leave at once. The
 *   members of a client-server that stopped without leaving (killed) expire
 *   within PRESENCE_TTL_SECONDS, then cause their leaves.
 * - `join` resolves once every other client-server's `members` sees it.
 */
export interface Presence {
  /**
   * Makes `connection` (unique within this process) a member of `channel` as
   * `member.user`. Joining again with the same connection is a no-op.
   */
  join(channel: string, connection: string, member: PresenceMember): Promise<void>;
  /** Removes `connection` from `channel`; unknown connections are ignored. */
  leave(channel: string, connection: string): Promise<void>;
  /** The channel's members, at most `limit` of them (sorted by user). */
  members(channel: string, limit: number): Promise<PresenceSnapshot>;
}
