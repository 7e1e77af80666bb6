import type { BusEvent } from '../../engine/bus.js';
import type { Engine } from '../../engine/engine.js';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { appNamespace, channelType, escapeName, fromNativeChannel, toNativeChannel } from '../../protocol/pusher/channel-name.js';
import { decodeEnvelope } from '../../protocol/pusher/envelope.js';

/** A channel listing reads the engine's occupancy index in pages of this many. */
const LIST_PAGE = 1000;
/**
 * Pusher lists every occupied channel in one answer; past this many the
 * listing stops (a body of this size is already hundreds of KiB). Use
 * `filter_by_prefix` to see the rest.
 */
export const MAX_LISTED_CHANNELS = 10_000;
/** How far back the cache attribute looks past client events (as the client-server's cache replay does). */
const CACHE_SCAN_EVENTS = 10;

export type InfoEngine = Pick<Engine, 'bus' | 'channels' | 'presence'>;

/**
 * Counts of a Pusher channel, from the native channel's deployment-wide
 * state: `subscription_count` is every subscription on every client-server,
 * native and Pusher (it lags by up to STATS_INTERVAL_SECONDS), `user_count`
 * the distinct presence users.
 */
export class ChannelInfo {
  constructor(private readonly engine: InfoEngine) {}

  async occupied(app: PusherApp, name: string): Promise<boolean> {
    const native = toNativeChannel(app.id, name);
    const page = await this.engine.channels.list({ prefix: native, limit: 1 });
    return page.channels[0]?.channel === native;
  }

  subscriptionCount(app: PusherApp, name: string): Promise<number> {
    return this.engine.channels.subscribers(toNativeChannel(app.id, name));
  }

  async userCount(app: PusherApp, name: string): Promise<number> {
    return (await this.engine.presence.members(toNativeChannel(app.id, name), 0)).count;
  }

  async users(app: PusherApp, name: string): Promise<string[]> {
    const snapshot = await this.engine.presence.members(toNativeChannel(app.id, name), Math.max(app.limits.maxPresenceMembers, 1000));
    return snapshot.members.map((m) => m.user);
  }

  /** The occupied channels of the app whose names start with `prefix`, with their subscription counts. */
  async list(app: PusherApp, prefix: string): Promise<{ name: string; subscribers: number }[]> {
    const out: { name: string; subscribers: number }[] = [];
    const nativePrefix = appNamespace(app.id) + escapeName(prefix);
    let after: string | undefined;
    while (out.length < MAX_LISTED_CHANNELS) {
      const page = await this.engine.channels.list({ prefix: nativePrefix, after, limit: LIST_PAGE });
      for (const c of page.channels) {
        const decoded = fromNativeChannel(c.channel);
        if (decoded && decoded.appId === app.id && out.length < MAX_LISTED_CHANNELS) out.push({ name: decoded.name, subscribers: c.subscribers });
      }
      if (page.next === null) break;
      after = page.next;
    }
    return out;
  }

  /** A cache channel's `cache` attribute: the event a new subscriber would get and its seconds left, or undefined. */
  async cache(app: PusherApp, name: string, nowMs: number): Promise<{ data: string; ttl: number } | undefined> {
    if (!channelType(name).cache) return undefined;
    const events: BusEvent[] = await this.engine.bus.latest(toNativeChannel(app.id, name), CACHE_SCAN_EVENTS);
    for (let i = events.length - 1; i >= 0; i--) {
      const envelope = decodeEnvelope(events[i]!.data.toString('utf8'));
      if (!envelope || envelope.client) continue;
      const left = Math.floor((events[i]!.ts + app.limits.cacheTtlSeconds * 1000 - nowMs) / 1000);
      return left > 0 ? { data: envelope.data, ttl: left } : undefined;
    }
    return undefined;
  }
}
