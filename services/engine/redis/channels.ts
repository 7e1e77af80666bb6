import { RelayError } from '../../protocol/errors.js';
import type { ChannelPage, ChannelSummary, Channels } from '../channels.js';
import type { RedisClient } from './connections.js';
import { CHANNEL_INDEX_KEY, occupancyKey, outboxKey, replicaChannelsKey } from './keys.js';
import { markOutbox } from './outbox-mark.js';
import { OCCUPY_SCRIPT, REPORT_SCRIPT, VACATE_SCRIPT } from './scripts/channel-scripts.js';
import { scriptCommand } from './scripts.js';

type Script = (keys: string[], args: (string | number)[]) => Promise<unknown>;

export interface RedisChannelsDeps {
  redis: RedisClient;
  replica: string;
  webhooks: (channel: string) => boolean;
  /** Resolves once this replica is known to the others (liveness.ts). */
  registered(): Promise<void>;
  /** STATS_INTERVAL_SECONDS × 1000: how often changed counts are written. */
  statsIntervalMs: number;
  now?: () => number;
  onError(err: unknown): void;
}

/**
 * Occupancy and subscriber counts in Redis (channels.ts states the
 * guarantees): per channel a hash of replica → subscription count, changed
 * by one script per occupy or vacate that also appends the transition to the
 * outbox. Counts are written in bulk every STATS_INTERVAL_SECONDS, which also
 * heals the listing index (a hint: `list` checks each name against its hash).
 */
export class RedisChannels implements Channels {
  private readonly occupyScript: Script;
  private readonly vacateScript: Script;
  private readonly reportScript: Script;
  private readonly now: () => number;
  /** This replica's occupied channels and their last reported counts. */
  private readonly mine = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: RedisChannelsDeps) {
    this.occupyScript = scriptCommand(deps.redis, 'eventrelayOccupy', OCCUPY_SCRIPT, 2);
    this.vacateScript = scriptCommand(deps.redis, 'eventrelayVacate', VACATE_SCRIPT, 2);
    this.reportScript = scriptCommand(deps.redis, 'eventrelayReport', REPORT_SCRIPT, 1);
    this.now = deps.now ?? Date.now;
    this.timer = setInterval(() => void this.flush().catch(deps.onError), deps.statsIntervalMs).unref();
  }

  async occupy(channel: string): Promise<void> {
    this.mine.set(channel, this.mine.get(channel) ?? 0);
    await this.guard(channel, async () => {
      // Written ahead: if this process dies from here on, another replica knows where to clean up.
      await this.deps.registered();
      await this.deps.redis.sadd(replicaChannelsKey(this.deps.replica), channel);
      const first = await this.transition(this.occupyScript, channel, this.deps.replica);
      if (first === 1) await this.deps.redis.zadd(CHANNEL_INDEX_KEY, 0, channel);
    });
  }

  async vacate(channel: string): Promise<void> {
    this.mine.delete(channel);
    this.dirty.delete(channel);
    await this.guard(channel, async () => {
      const last = await this.transition(this.vacateScript, channel, this.deps.replica);
      if (last === 1) await this.deps.redis.zrem(CHANNEL_INDEX_KEY, channel);
      await this.deps.redis.srem(replicaChannelsKey(this.deps.replica), channel);
    });
  }

  report(channel: string, count: number): void {
    if (!this.mine.has(channel) || this.mine.get(channel) === count) return;
    this.mine.set(channel, count);
    this.dirty.add(channel);
  }

  async subscribers(channel: string): Promise<number> {
    const counts = await this.guard(channel, () => this.deps.redis.hvals(occupancyKey(channel)));
    return counts.reduce((sum, n) => sum + Number(n), 0);
  }

  async list({ prefix, after, limit }: { prefix: string; after?: string; limit: number }): Promise<ChannelPage> {
    const channels: ChannelSummary[] = [];
    // The index may hold a channel vacated a moment ago: each name is checked, stale ones dropped.
    let from = after !== undefined && after >= prefix ? `(${after}` : `[${prefix}`;
    // DEL (0x7f) sorts after every character a channel name may hold.
    const to = `[${prefix}\x7f`;
    try {
      for (;;) {
        const names = await this.deps.redis.zrangebylex(CHANNEL_INDEX_KEY, from, to, 'LIMIT', 0, limit + 1);
        // All of a page's counts at once: sent back to back (one round trip, not one per name). Not a
        // MULTI or pipeline object, which a Cluster refuses across slots; these go to each key's node.
        const pageCounts = await Promise.all(names.map((channel) => (channel.startsWith(prefix) ? this.deps.redis.hvals(occupancyKey(channel)) : [])));
        for (const [i, channel] of names.entries()) {
          if (!channel.startsWith(prefix)) continue;
          const counts = pageCounts[i]!;
          if (counts.length === 0) {
            await this.deps.redis.zrem(CHANNEL_INDEX_KEY, channel);
            continue;
          }
          if (channels.length === limit) return { channels, next: channels[channels.length - 1]!.channel };
          channels.push({ channel, subscribers: counts.reduce((sum, n) => sum + Number(n), 0) });
        }
        if (names.length < limit + 1) return { channels, next: null };
        from = `(${names[names.length - 1]!}`;
      }
    } catch (err) {
      throw new RelayError('unavailable', 'Channel counts (Redis) cannot be read right now; retry shortly.', { cause: err });
    }
  }

  /** Vacates `channel` for a dead replica (liveness.ts). */
  async expireReplica(replica: string, channel: string): Promise<void> {
    const last = await this.transition(this.vacateScript, channel, replica);
    if (last === 1) await this.deps.redis.zrem(CHANNEL_INDEX_KEY, channel);
  }

  /** Registers this replica's channels again after the others took it for dead. */
  async reassert(): Promise<void> {
    for (const channel of [...this.mine.keys()]) {
      await this.occupy(channel);
      this.dirty.add(channel);
    }
  }

  /**
   * Writes the counts that changed, and re-lists every occupied channel in
   * the index (healing races there). Each count is its own command on its
   * channel's slot (a Cluster pipeline may not mix slots); sent without
   * awaiting one another, they still travel back to back.
   */
  async flush(): Promise<void> {
    const changed = [...this.dirty];
    this.dirty.clear();
    const writes = changed.map((channel) => this.reportScript([occupancyKey(channel)], [this.deps.replica, this.mine.get(channel) ?? 0]));
    if (this.mine.size > 0) writes.push(this.deps.redis.zadd(CHANNEL_INDEX_KEY, ...[...this.mine.keys()].flatMap((c) => [0, c])));
    const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Written again at the next interval.
      for (const channel of changed) if (this.mine.has(channel)) this.dirty.add(channel);
      throw failed.reason;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async transition(script: Script, channel: string, replica: string): Promise<number> {
    const time = this.now();
    if (this.deps.webhooks(channel)) await markOutbox(this.deps.redis, channel, time);
    const result = Number(await script([occupancyKey(channel), outboxKey(channel)], [replica, this.deps.webhooks(channel) ? '1' : '0', time, channel]));
    if (this.deps.webhooks(channel)) await markOutbox(this.deps.redis, channel, time);
    return result;
  }

  private async guard<T>(channel: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new RelayError('unavailable', 'Channel occupancy (Redis) cannot be reached right now; retry shortly.', { channel, cause: err });
    }
  }
}
