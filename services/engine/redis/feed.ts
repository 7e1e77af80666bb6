import type { Logger } from 'pino';
import { compareParsedIds, isEventId, parseEventId, type StreamPosition } from '../../protocol/event-id.js';
import type { EngineMetrics as Metrics } from '../engine-metrics.js';
import type { BusEvent, BusHandler } from '../bus.js';
import { decodeBusMessage, decodePresenceMessage, isPresenceMessage } from './bus-message.js';
import type { RedisClient } from './connections.js';
import { topicName } from './keys.js';
import { entryToEvent, newestId, readStream } from './stream.js';

/** One subscribed channel, wherever its pub/sub connection is (subscriber.ts, cluster/shard.ts). */
export interface Subscription {
  channel: string;
  topic: string;
  handler: BusHandler;
  /** The newest id delivered (or the baseline taken at subscribe); anything at or below it is a duplicate. */
  last: StreamPosition;
  lastId: string;
  /** Live messages held back while the channel is resubscribed and backfilled, delivered right after it. */
  held?: Buffer[];
}

export function newSubscription(channel: string, handler: BusHandler, baseline: string): Subscription {
  return { channel, topic: topicName(channel), handler, last: parseEventId(baseline), lastId: baseline };
}

export interface FeedDeps {
  /** Command client: backfill reads the channel's stream through it. */
  redis: RedisClient;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Per-channel delivery, the same on every topology: live messages decoded
 * and deduped by id, held while the channel is being caught up, and the
 * catch-up itself (backfill from the stream after the last delivered id,
 * then the held messages), so that a lost subscription loses nothing history
 * still holds and never delivers twice.
 */
export class Feeds {
  constructor(private readonly deps: FeedDeps) {}

  /** A message that arrived on `sub`'s topic. */
  live(sub: Subscription, message: Buffer): void {
    // Presence transitions are not in the stream, so there is nothing to hold them back for.
    if (isPresenceMessage(message)) this.deliverPresence(sub, message);
    else if (sub.held) sub.held.push(message);
    else this.deliverMessage(sub, message);
  }

  /** From now on live messages of `sub` wait until `catchUp`. */
  hold(sub: Subscription): void {
    sub.held ??= [];
  }

  /**
   * Backfills `sub` from its last delivered id, then delivers what was held,
   * then tells the handler it was resubscribed. `restarted`: the Redis it
   * reads may have lost everything (a restart without the same data), which
   * a channel that delivered nothing yet must be told as a gap. `current`
   * turns false when a newer loss overtook this catch-up: it stops, and the
   * next one starts over from the last delivered id. `resubscribed` false:
   * a first subscribe, whose handler has missed nothing. Returns the events backfilled.
   */
  async catchUp(sub: Subscription, restarted: boolean, current: () => boolean, resubscribed = true): Promise<number> {
    const backfilled = await this.backfill(sub, restarted, current);
    if (!current()) return backfilled;
    const held = sub.held ?? [];
    sub.held = undefined;
    for (const message of held) this.deliverMessage(sub, message);
    if (!resubscribed) return backfilled;
    // Presence messages published while the subscription was down are gone: the handler re-reads members.
    try {
      sub.handler.onResume?.(sub.channel);
    } catch (err) {
      this.deps.logger.error({ err, channel: sub.channel }, 'bus resume handler threw');
    }
    return backfilled;
  }

  private deliverPresence(sub: Subscription, message: Buffer): void {
    const change = decodePresenceMessage(message);
    if (!change) {
      this.deps.logger.warn({ channel: sub.channel, bytes: message.length }, 'dropped a malformed presence message');
      return;
    }
    try {
      sub.handler.onPresence?.(sub.channel, change);
    } catch (err) {
      this.deps.logger.error({ err, channel: sub.channel }, 'bus presence handler threw');
    }
  }

  /** Decodes a live bus message (bus-message.ts) and delivers it; malformed ones are logged and dropped, never thrown. */
  private deliverMessage(sub: Subscription, message: Buffer): void {
    const decoded = decodeBusMessage(message);
    if (decoded === undefined || !isEventId(decoded.id)) {
      this.deps.logger.warn({ channel: sub.channel, bytes: message.length }, 'dropped a malformed bus message');
      return;
    }
    const event: BusEvent = { channel: sub.channel, id: decoded.id, position: parseEventId(decoded.id), ts: decoded.ts, data: decoded.data };
    if (decoded.publisher !== '') event.publisher = decoded.publisher;
    this.deliver(sub, event);
  }

  /** Delivers `event` unless it is not newer than what the channel already got. */
  private deliver(sub: Subscription, event: BusEvent): boolean {
    const position = event.position as StreamPosition;
    if (compareParsedIds(position, sub.last) <= 0) return false;
    sub.last = position;
    sub.lastId = event.id;
    try {
      sub.handler.onEvent(event);
    } catch (err) {
      this.deps.logger.error({ err, channel: sub.channel }, 'bus handler threw; event delivery continues');
    }
    return true;
  }

  /**
   * Delivers what the stream holds after the channel's last id, and calls
   * onGap first when continuity cannot be shown: the last id itself is no
   * longer held (trimmed, expired, lost in a restart without persistence or
   * in a failover to a replica that never got it). A channel that had
   * delivered nothing (`0-0`) has no id to look for; it gets onGap exactly
   * when Redis restarted. That is conservative: a restart with AOF also
   * reports a gap for such channels, because we cannot tell whether events
   * published before the restart reached the stream we are reading now.
   */
  private async backfill(sub: Subscription, restarted: boolean, current: () => boolean): Promise<number> {
    const { redis, logger, metrics } = this.deps;
    const from = sub.lastId;
    let first = true;
    let delivered = 0;
    let gap = false;
    const checkGap = (firstId: string | undefined) => {
      gap = from === '0-0' ? restarted : firstId !== from;
      if (!gap) return;
      logger.warn({ channel: sub.channel, lastId: from, restarted }, 'cannot prove no event was missed; reporting a gap');
      metrics?.gaps.inc();
      try {
        sub.handler.onGap(sub.channel);
      } catch (err) {
        logger.error({ err, channel: sub.channel }, 'bus gap handler threw');
      }
    };
    for await (const page of readStream(redis, sub.channel, from)) {
      if (!current()) return delivered;
      if (first) checkGap(page[0]![0]);
      first = false;
      for (const entry of page) {
        const event = entryToEvent(sub.channel, entry);
        if (event && this.deliver(sub, event)) delivered++;
      }
    }
    if (first && current()) {
      checkGap(undefined);
      if (gap && from !== '0-0') await this.rebase(sub);
    }
    metrics?.backfilledEvents.inc(delivered);
    return delivered;
  }

  /**
   * After a gap with nothing at or after the last id, the stream may now end
   * *below* it: a promoted replica that never got our newest events issues
   * ids from its own clock, which may be behind the old primary's. Keeping
   * the lost id as the high-water mark would drop those new events as
   * duplicates, silently; the mark moves down to what the stream holds.
   */
  private async rebase(sub: Subscription): Promise<void> {
    const newest = await newestId(this.deps.redis, sub.channel);
    const position = parseEventId(newest);
    if (compareParsedIds(position, sub.last) < 0) {
      sub.last = position;
      sub.lastId = newest;
    }
  }
}
