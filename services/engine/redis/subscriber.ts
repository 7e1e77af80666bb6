import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RelayError } from '../../protocol/errors.js';
import { compareParsedIds, isEventId, parseEventId, type StreamPosition } from '../../protocol/event-id.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { BusEvent, BusHandler } from '../bus.js';
import { decodeBusMessage, decodePresenceMessage, isPresenceMessage } from './bus-message.js';
import { topicName } from './keys.js';
import { entryToEvent, newestId, readStream, serverRunId } from './stream.js';

/** A failed recovery (e.g. the command connection is not back yet) is tried again after this long. */
const RECOVERY_RETRY_MS = 250;

interface Subscription {
  channel: string;
  topic: string;
  handler: BusHandler;
  /** The newest id delivered (or the baseline taken at subscribe); anything at or below it is a duplicate. */
  last: StreamPosition;
  lastId: string;
  /** Live messages held back while the channel is backfilled after a reconnect, delivered right after it. */
  held?: Buffer[];
}

export interface RedisSubscriberDeps {
  /** Command connection: baselines, backfill, INFO. */
  redis: Redis;
  /** Pub/sub connection; its listeners are removed again by `close()`. */
  subscriber: Redis;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * The subscribing half of RedisBus: one SUBSCRIBE per channel, per-channel
 * dedupe by id, and after every reconnect of the subscriber connection a
 * confirmed re-SUBSCRIBE plus a backfill from the stream, so that a drop
 * loses nothing that history still holds and never delivers twice.
 */
export class RedisSubscriber {
  private readonly byChannel = new Map<string, Subscription>();
  private readonly byTopic = new Map<string, Subscription>();
  private readonly logger: Logger;
  /** Redis's run_id when we last had everything in order; a change means Redis restarted. */
  private runId?: string;
  /** Set from a drop of the subscriber connection until resubscribe and backfill are done. */
  private recovering = false;
  /** Bumped on every drop, so that a recovery overtaken by a newer drop stops. */
  private generation = 0;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  /** Until the first `ready` there is nothing to recover: subscribe needs a ready connection. */
  private connectedOnce: boolean;

  constructor(private readonly deps: RedisSubscriberDeps) {
    this.logger = deps.logger;
    this.connectedOnce = deps.subscriber.status === 'ready';
    deps.subscriber.on('messageBuffer', this.onMessage);
    deps.subscriber.on('close', this.onDrop);
    deps.subscriber.on('ready', this.onReady);
  }

  /** Why live delivery cannot be trusted right now, or undefined when it can. */
  problem(): string | undefined {
    const status = this.deps.subscriber.status;
    if (status !== 'ready') return `the Redis subscriber connection is ${status}`;
    if (this.recovering) return 'the Redis subscriber is resubscribing and backfilling after a reconnect';
    return undefined;
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    let baseline: string;
    try {
      const [newest, runId] = await Promise.all([
        newestId(this.deps.redis, channel),
        this.runId === undefined ? serverRunId(this.deps.redis) : undefined,
      ]);
      baseline = newest;
      this.runId ??= runId;
    } catch (err) {
      throw unavailable(`Cannot subscribe to "${channel}": Redis is unreachable.`, err);
    }
    if (this.byChannel.has(channel)) throw new Error(`RedisBus: ${channel} is already subscribed`);
    const topic = topicName(channel);
    const sub: Subscription = {
      channel,
      topic,
      handler,
      last: parseEventId(baseline),
      lastId: baseline,
    };
    this.byChannel.set(channel, sub);
    this.byTopic.set(topic, sub);
    try {
      await this.deps.subscriber.subscribe(topic);
    } catch (err) {
      this.forget(sub);
      throw unavailable(`Cannot subscribe to "${channel}": Redis is unreachable.`, err);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const sub = this.byChannel.get(channel);
    if (!sub) return;
    this.forget(sub);
    try {
      await this.deps.subscriber.unsubscribe(sub.topic);
    } catch (err) {
      // Nothing is delivered for a forgotten topic; Redis drops the subscription with the connection.
      this.logger.debug({ err, channel }, 'UNSUBSCRIBE failed; the topic is ignored from now on');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    const { subscriber } = this.deps;
    subscriber.off('messageBuffer', this.onMessage);
    subscriber.off('close', this.onDrop);
    subscriber.off('ready', this.onReady);
    const topics = [...this.byTopic.keys()];
    this.byChannel.clear();
    this.byTopic.clear();
    if (topics.length > 0 && subscriber.status === 'ready') {
      await subscriber.unsubscribe(...topics).catch((err: unknown) => this.logger.debug({ err }, 'UNSUBSCRIBE at close failed'));
    }
  }

  private forget(sub: Subscription): void {
    if (this.byChannel.get(sub.channel) === sub) this.byChannel.delete(sub.channel);
    if (this.byTopic.get(sub.topic) === sub) this.byTopic.delete(sub.topic);
  }

  private readonly onMessage = (topic: Buffer, message: Buffer): void => {
    const sub = this.byTopic.get(topic.toString());
    if (!sub) return; // a topic we just left; ioredis may still deliver a message or two
    // Presence transitions are not in the stream, so there is nothing to hold them back for.
    if (isPresenceMessage(message)) this.deliverPresence(sub, message);
    else if (sub.held) sub.held.push(message);
    else this.deliverMessage(sub, message);
  };

  private deliverPresence(sub: Subscription, message: Buffer): void {
    const change = decodePresenceMessage(message);
    if (!change) {
      this.logger.warn({ channel: sub.channel, bytes: message.length }, 'dropped a malformed presence message');
      return;
    }
    try {
      sub.handler.onPresence?.(sub.channel, change);
    } catch (err) {
      this.logger.error({ err, channel: sub.channel }, 'bus presence handler threw');
    }
  }

  /** Decodes a live bus message (bus-message.ts) and delivers it; malformed ones are logged and dropped, never thrown. */
  private deliverMessage(sub: Subscription, message: Buffer): void {
    const decoded = decodeBusMessage(message);
    if (decoded === undefined || !isEventId(decoded.id)) {
      this.logger.warn({ channel: sub.channel, bytes: message.length }, 'dropped a malformed bus message');
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
      this.logger.error({ err, channel: sub.channel }, 'bus handler threw; event delivery continues');
    }
    return true;
  }

  private readonly onDrop = (): void => {
    if (this.closed || !this.connectedOnce) return;
    this.generation++;
    clearTimeout(this.retryTimer);
    if (!this.recovering) this.logger.warn('Redis subscriber connection lost; will resubscribe and backfill');
    this.recovering = true;
    for (const sub of this.byChannel.values()) sub.held ??= [];
  };

  private readonly onReady = (): void => {
    this.connectedOnce = true;
    if (this.closed || !this.recovering) return;
    void this.recover(this.generation);
  };

  /** Re-SUBSCRIBEs every active topic (confirmed), then backfills each channel from its last delivered id. */
  private async recover(generation: number): Promise<void> {
    const current = () => generation === this.generation && !this.closed;
    try {
      const subs = [...this.byChannel.values()];
      if (subs.length > 0) await this.deps.subscriber.subscribe(...subs.map((s) => s.topic));
      if (!current()) return;
      const runId = await serverRunId(this.deps.redis);
      const restarted = this.runId !== undefined && runId !== this.runId;
      let backfilled = 0;
      for (const sub of subs) {
        if (this.byChannel.get(sub.channel) !== sub) continue;
        backfilled += await this.backfill(sub, restarted, current);
        if (!current()) return;
        const held = sub.held ?? [];
        sub.held = undefined;
        for (const message of held) this.deliverMessage(sub, message);
        this.resumed(sub);
      }
      this.runId = runId;
      this.recovering = false;
      this.deps.metrics?.busReconnects.inc();
      this.logger.info({ channels: subs.length, backfilled, restarted }, 'Redis subscriber reconnected and caught up');
    } catch (err) {
      if (!current()) return;
      this.logger.warn({ err }, 'resubscribe or backfill failed; retrying');
      this.retryTimer = setTimeout(() => void this.recover(generation), RECOVERY_RETRY_MS).unref();
    }
  }

  /** BusHandler.onResume: presence transitions of the interruption may be lost; the handler re-reads them. */
  private resumed(sub: Subscription): void {
    try {
      sub.handler.onResume?.(sub.channel);
    } catch (err) {
      this.logger.error({ err, channel: sub.channel }, 'bus resume handler threw');
    }
  }

  /**
   * Delivers what the stream holds after the channel's last id, and calls
   * onGap first when continuity cannot be shown: the last id itself is no
   * longer held (trimmed, expired, lost in a restart without persistence).
   * A channel that had delivered nothing (`0-0`) has no id to look for; it
   * gets onGap exactly when Redis restarted (run_id changed). That is
   * conservative: a restart with AOF also reports a gap for such channels,
   * because we cannot tell whether events published before the restart
   * reached the stream we are reading now.
   */
  private async backfill(sub: Subscription, restarted: boolean, current: () => boolean): Promise<number> {
    const from = sub.lastId;
    let first = true;
    let delivered = 0;
    const checkGap = (firstId: string | undefined) => {
      const gap = from === '0-0' ? restarted : firstId !== from;
      if (!gap) return;
      this.logger.warn({ channel: sub.channel, lastId: from, restarted }, 'cannot prove no event was missed; reporting a gap');
      this.deps.metrics?.gaps.inc();
      try {
        sub.handler.onGap(sub.channel);
      } catch (err) {
        this.logger.error({ err, channel: sub.channel }, 'bus gap handler threw');
      }
    };
    for await (const page of readStream(this.deps.redis, sub.channel, from)) {
      if (!current() || this.byChannel.get(sub.channel) !== sub) return delivered;
      if (first) checkGap(page[0]![0]);
      first = false;
      for (const entry of page) {
        const event = entryToEvent(sub.channel, entry);
        if (event && this.deliver(sub, event)) delivered++;
      }
    }
    if (first && current()) checkGap(undefined);
    this.deps.metrics?.backfilledEvents.inc(delivered);
    return delivered;
  }
}

function unavailable(message: string, cause: unknown): RelayError {
  return new RelayError('unavailable', message, { cause });
}
