import type { Logger } from 'pino';
import { STREAM_IDS, compareParsedIds, parseEventId, type StreamPosition } from '../../protocol/event-id.js';
import type { Config } from '../../runtime/config/schema.js';
import type { Bus, BusEvent, BusHandler, BusHealth, HistoryResult, OutgoingEvent, PublishResult } from '../bus.js';

/** Expired idempotency keys and idle channels are swept this often, so memory stays bounded by live ones. */
const SWEEP_INTERVAL_MS = 60_000;

/** A MemoryBus event: its position is a stream position. */
type MemoryEvent = BusEvent & { position: StreamPosition };

interface ChannelState {
  /** Ring buffer of the newest `historySize` events. */
  ring: (MemoryEvent | undefined)[];
  /** Index of the next write; `count` events are held. */
  next: number;
  count: number;
  last: StreamPosition;
  touchedAt: number;
}

export interface MemoryBusDeps {
  config: Pick<Config, 'historySize' | 'historyTtlSeconds' | 'idempotencyTtlSeconds'>;
  logger: Logger;
  /** Injected for tests; ids use it like Redis uses its clock. */
  now?: () => number;
}

/**
 * The bus inside one process (embedded mode, fast tests): the same
 * semantics as RedisBus, with a bounded ring buffer per channel and ids of
 * the Redis stream shape. Nothing survives the process.
 */
export class MemoryBus implements Bus {
  readonly ids = STREAM_IDS;
  private readonly channels = new Map<string, ChannelState>();
  private readonly handlers = new Map<string, BusHandler>();
  private readonly idempotency = new Map<string, { id: string; expiresAt: number }>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout;

  constructor(private readonly deps: MemoryBusDeps) {
    this.logger = deps.logger.child({ component: 'memory-bus' });
    this.now = deps.now ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]> {
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
      const busEvent: MemoryEvent = { channel: event.channel, id, position, ts: event.ts, data: Buffer.from(event.data) };
      if (event.publisher !== undefined) busEvent.publisher = event.publisher;
      state.ring[state.next] = busEvent;
      state.next = (state.next + 1) % state.ring.length;
      state.count = Math.min(state.count + 1, state.ring.length);
      state.last = position;
      if (idemKey !== undefined) {
        this.idempotency.set(idemKey, { id, expiresAt: now + this.deps.config.idempotencyTtlSeconds * 1000 });
      }
      stored.push(busEvent);
      results.push({ channel: event.channel, id, replayed: false });
    }
    for (const event of stored) {
      const handler = this.handlers.get(event.channel);
      if (!handler) continue;
      try {
        handler.onEvent(event);
      } catch (err) {
        this.logger.error({ err, channel: event.channel }, 'bus handler threw; event delivery continues');
      }
    }
    return results;
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.handlers.has(channel)) throw new Error(`MemoryBus: ${channel} is already subscribed`);
    this.handlers.set(channel, handler);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.handlers.delete(channel);
  }

  async history(channel: string, since: string): Promise<HistoryResult> {
    const state = this.channels.get(channel);
    if (!state || this.expired(state, this.now())) return { recovered: false, events: [] };
    const after = parseEventId(since);
    const events: BusEvent[] = [];
    let recovered = false;
    const start = (state.next - state.count + state.ring.length) % state.ring.length;
    for (let i = 0; i < state.count; i++) {
      const event = state.ring[(start + i) % state.ring.length]!;
      const cmp = compareParsedIds(event.position, after);
      if (cmp === 0) recovered = true;
      else if (cmp > 0) events.push(event);
    }
    return { recovered, events };
  }

  health(): BusHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.handlers.clear();
  }

  private state(channel: string, now: number): ChannelState {
    let state = this.channels.get(channel);
    if (state && this.expired(state, now)) {
      // Like an expired Redis key: history is gone, but ids keep increasing.
      state = { ...freshState(this.deps.config.historySize, now), last: state.last };
      this.channels.set(channel, state);
    }
    if (!state) {
      state = freshState(this.deps.config.historySize, now);
      this.channels.set(channel, state);
    }
    state.touchedAt = now;
    return state;
  }

  private expired(state: ChannelState, now: number): boolean {
    const ttl = this.deps.config.historyTtlSeconds;
    return ttl > 0 && now - state.touchedAt > ttl * 1000;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.idempotency) if (entry.expiresAt <= now) this.idempotency.delete(key);
    for (const [channel, state] of this.channels) {
      if (this.expired(state, now) && !this.handlers.has(channel)) this.channels.delete(channel);
    }
  }
}

function freshState(size: number, now: number): ChannelState {
  return { ring: new Array(size), next: 0, count: 0, last: { ms: 0, seq: 0 }, touchedAt: now };
}

/** Redis XADD `*` semantics: the clock's ms, or the last ms with the next sequence when the clock has not moved on. */
function nextPosition(last: StreamPosition, now: number): StreamPosition {
  return now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}
