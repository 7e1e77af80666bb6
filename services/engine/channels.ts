/** A channel with at least one subscriber somewhere, and how many subscriptions it has on every client-server. */
export interface ChannelSummary {
  channel: string;
  subscribers: number;
}

export interface ChannelPage {
  channels: ChannelSummary[];
  /** The `after` of the next page, or null on the last one. */
  next: string | null;
}

/**
 * Which channels have subscribers, across every client-server (PROTOCOL.md
 * v1.1, Server API and Webhooks).
 *
 * Guarantees, for every implementation (test/engine/channels-contract.ts):
 * - `occupy` is called by a client-server's hub on its first local
 *   subscriber of a channel, `vacate` on its last. A channel with no
 *   occupying client-server becoming occupied by one, and its last occupier
 *   vacating, are transitions: with webhooks configured each is appended once
 *   to the channel's outbox (`channel.occupied`, `channel.vacated`), in the
 *   order they happened. A client-server that stopped without vacating
 *   (killed) stops counting within PRESENCE_TTL_SECONDS, and its last
 *   channels are then vacated.
 * - `report` hands over this process's subscription count per channel;
 *   `subscribers` and `list` see it within STATS_INTERVAL_SECONDS.
 * - `occupy` resolves before the transition could be reported after a later
 *   `vacate`: for one subscribe, `channel.occupied` precedes `presence.join`.
 */
export interface Channels {
  occupy(channel: string): Promise<void>;
  vacate(channel: string): Promise<void>;
  /** This process now holds `count` subscriptions of `channel` (0 after `vacate`). Cheap: batched and flushed periodically. */
  report(channel: string, count: number): void;
  /** Subscriptions of `channel` on every client-server. */
  subscribers(channel: string): Promise<number>;
  /** Occupied channels whose names start with `prefix`, by name, after `after`, at most `limit`. */
  list(options: { prefix: string; after?: string; limit: number }): Promise<ChannelPage>;
}
