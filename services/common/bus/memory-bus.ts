import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { compareParsedIds, parseEventId, type ParsedEventId } from '../event-id.js';
import { eventFrame } from '../protocol.js';
import type { Bus, BusEvent, BusHandler, BusHealth, HistoryResult, OutgoingEvent, PublishResult } from './bus.js';

interface ChannelState {
  /** Ring buffer of the newest `historySize` events. */
  ring: (BusEvent | undefined)[];
  /** Index of the next write; `count` events are held. */
  next: number;
  count: number;
  last: ParsedEventId;
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
  private readonly channels = new Map<string, ChannelState>();
  private readonly handlers = new Map<string, BusHandler>();
  private readonly idempotency = new Map<string, { id: string; expiresAt: number }>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout;

  constructor(private readonly deps: MemoryBusDeps) {
    this.logger = deps.logger.child({ component: 'memory-bus' });
    this.now = deps.now ?? Date.now;
    // Expired idempotency keys and idle channels are swept once a minute so memory stays bounded.
    this.sweepTimer = setInterval(() => this.sweep(), 60_000).unref();
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]> {
    const results: PublishResult[] = [];
    const stored: BusEvent[] = [];
    const now = this.now();
    for (const event of events) {
      const idemKey = event.idempotencyKey === undefined ? undefined : `${event.channel}\n${event.idempotencyKey}`;
      const previous = idemKey === undefined ? undefined : this.idempotency.get(idemKey);
      if (previous && previous.expiresAt > now) {
        results.push({ channel: event.channel, id: previous.id, replayed: true });
        continue;
      }
      const state = this.state(event.channel, now);
      const position = nextPosition(state.last, now);
      const id = `${position.ms}-${position.seq}`;
      const busEvent: BusEvent = {
        channel: event.channel,
        id,
        position,
        frame: Buffer.from(eventFrame(event.channel, id, event.data, event.ts)),
      };
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
function nextPosition(last: ParsedEventId, now: number): ParsedEventId {
  return now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
}
