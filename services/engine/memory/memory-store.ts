import { webhookChannels } from '../webhooks/routes.js';
import { compareParsedIds, parseEventId, type StreamPosition } from '../../protocol/event-id.js';
import type { Config } from '../../runtime/config/schema.js';
import type { BusEvent, HistoryResult, OutgoingEvent, PublishResult } from '../bus.js';
import type { Transition } from '../outbox.js';

/** A stored event: its position is a stream position. */
export type MemoryEvent = BusEvent & { position: StreamPosition };

interface ChannelState {
  /** Ring buffer of the newest `historySize` events. */
  ring: (MemoryEvent | undefined)[];
  /** Index of the next write; `count` events are held. */
  next: number;
  count: number;
  last: StreamPosition;
  touchedAt: number;
}

export type MemoryStoreConfig = Pick<Config, 'historySize' | 'historyTtlSeconds' | 'idempotencyTtlSeconds'> &
  /** WEBHOOK_URLS (or a Pusher app's webhooks): a client publish (an event with `publisher`) appends its `client.publish` transition. */
  Partial<Pick<Config, 'webhookUrls' | 'pusherApps'>>;

/**
 * Channel histories and idempotency keys of the in-memory broker: a bounded
 * ring buffer per channel with ids of the Redis stream shape, and the same
 * trimming, expiry and idempotency rules as the Redis publish script.
 */
export class MemoryStore {
  private readonly channels = new Map<string, ChannelState>();
  private readonly idempotency = new Map<string, { id: string; expiresAt: number }>();

  /** Channels whose client publishes append a `client.publish` transition. */
  private readonly webhooks: (channel: string) => boolean;

  constructor(
    private readonly config: MemoryStoreConfig,
    private readonly now: () => number,
    /** Appends to the webhook outbox (the broker's), in the same step as the store. */
    private readonly appendOutbox: (t: Transition) => void = () => {},
  ) {
    this.webhooks = webhookChannels(config);
  }

  /** Stores a batch in request order; returns its results and the events newly stored (to deliver). */
  store(events: readonly OutgoingEvent[]): { results: PublishResult[]; stored: MemoryEvent[] } {
    const results: PublishResult[] = [];
    const stored: MemoryEvent[] = [];
    const now = this.now();
    for (const event of events) {
      const idemKey =
        event.idempotencyKey === undefined ? undefined : `${event.channel}\n${event.idempotencyScope ?? ''}\n${event.idempotencyKey}`;
      const previous = idemKey === undefined ? undefined : this.idempotency.get(idemKey);
      if (previous && previous.expiresAt > now) {
        results.push({ channel: event.channel, id: previous.id, replayed: true });
        continue;
      }
      const state = this.state(event.channel, now);
      const position = nextPosition(state.last, now);
      const id = `${position.ms}-${position.seq}`;
      const stored1: MemoryEvent = { channel: event.channel, id, position, ts: event.ts, data: Buffer.from(event.data) };
      if (event.publisher !== undefined) {
        stored1.publisher = event.publisher;
        if (this.webhooks(event.channel)) {
          this.appendOutbox({ kind: 'client.publish', channel: event.channel, time: event.ts, id, publisher: event.publisher, data: event.data });
        }
      }
      state.ring[state.next] = stored1;
      state.next = (state.next + 1) % state.ring.length;
      state.count = Math.min(state.count + 1, state.ring.length);
      state.last = position;
      if (idemKey !== undefined) this.idempotency.set(idemKey, { id, expiresAt: now + this.config.idempotencyTtlSeconds * 1000 });
      stored.push(stored1);
      results.push({ channel: event.channel, id, replayed: false });
    }
    return { results, stored };
  }

  history(channel: string, since: string, limit?: number): HistoryResult {
    const after = parseEventId(since);
    const events: BusEvent[] = [];
    let recovered = false;
    let more = false;
    for (const event of this.held(channel)) {
      const cmp = compareParsedIds(event.position, after);
      if (cmp === 0) recovered = true;
      else if (cmp > 0) {
        if (limit !== undefined && events.length === limit) {
          more = true;
          break;
        }
        events.push(event);
      }
    }
    return limit === undefined ? { recovered, events } : { recovered, events, more };
  }

  latest(channel: string, limit: number): BusEvent[] {
    const held = this.held(channel);
    return held.slice(Math.max(0, held.length - limit));
  }

  /** Drops expired idempotency keys and idle channels nobody listens to, so memory stays bounded by live ones. */
  sweep(isListened: (channel: string) => boolean): void {
    const now = this.now();
    for (const [key, entry] of this.idempotency) if (entry.expiresAt <= now) this.idempotency.delete(key);
    for (const [channel, state] of this.channels) {
      if (this.expired(state, now) && !isListened(channel)) this.channels.delete(channel);
    }
  }

  /** The channel's held events, oldest first. */
  private held(channel: string): MemoryEvent[] {
    const state = this.channels.get(channel);
    if (!state || this.expired(state, this.now())) return [];
    const start = (state.next - state.count + state.ring.length) % state.ring.length;
    const out: MemoryEvent[] = [];
    for (let i = 0; i < state.count; i++) out.push(state.ring[(start + i) % state.ring.length]!);
    return out;
  }

  private state(channel: string, now: number): ChannelState {
    let state = this.channels.get(channel);
    if (state && this.expired(state, now)) {
      // Like an expired Redis key: history is gone, but ids keep increasing.
      state = { ...freshState(this.config.historySize, now), last: state.last };
      this.channels.set(channel, state);
    }
    if (!state) {
      state = freshState(this.config.historySize, now);
      this.channels.set(channel, state);
    }
    state.touchedAt = now;
    return state;
  }

  private expired(state: ChannelState, now: number): boolean {
    const ttl = this.config.historyTtlSeconds;
    return ttl > 0 && now - state.touchedAt > ttl * 1000;
  }
}

function freshState(size: number, now: number): ChannelState {
  return { ring: new Array(size), next: 0, count: 0, last: { ms: 0, seq: 0 }, touchedAt: now };
}

/** Redis XADD `*` semantics: the clock's ms, or the last ms with the next sequence when the clock has not moved on. */
function nextPosition(last: StreamPosition, now: number): StreamPosition {
  return now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}
