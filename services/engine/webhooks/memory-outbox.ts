import type { MemoryBroker } from '../memory/memory-broker.js';
import { transitionJson } from '../outbox.js';
import type { Lost, OutboxBatch, OutboxStore } from './outbox-store.js';

interface MemoryBatch extends OutboxBatch {
  /** Positions (see ChannelState) of its first and last transition. */
  first: number;
  last: number;
}

/** Delivery state of one channel's outbox (`broker.outbox.get(channel)`), kept beside it. */
interface ChannelState {
  /** Position of the outbox's first held transition: positions count every transition ever appended. */
  base: number;
  /** Per receiver, the position of the last transition it has. */
  cursors: Map<string, number>;
  batches: Map<string, MemoryBatch>;
  /** Parked until this time, unless more transitions than `appended` (a position) arrived since. */
  parked?: { until: number; appended: number };
}

/** What every dispatcher on one broker shares, as Redis holds it for the Redis engine. */
interface BrokerWebhooks {
  channels: Map<string, ChannelState>;
  leases: Map<string, { owner: string; expiresAt: number }>;
}

/**
 * Per broker, not a field of MemoryBroker: only webhooks read it, and replica
 * views (engines) on one broker must share it like they share the outbox.
 */
const shared = new WeakMap<MemoryBroker, BrokerWebhooks>();

/**
 * The OutboxStore of the in-memory broker. Writers (memory-presence.ts,
 * memory-channels.ts, the store's client publishes) append to `broker.outbox`
 * synchronously, so the work list is that map itself: no mark, no race.
 */
export class MemoryOutboxStore implements OutboxStore {
  private readonly state: BrokerWebhooks;

  constructor(private readonly broker: MemoryBroker) {
    let state = shared.get(broker);
    if (!state) shared.set(broker, (state = { channels: new Map(), leases: new Map() }));
    this.state = state;
  }

  async pending(now: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [channel, queue] of this.broker.outbox) {
      if (out.length === limit) break;
      const parked = this.state.channels.get(channel)?.parked;
      if (queue.length > 0 && (!parked || parked.until <= now || this.appended(channel) > parked.appended)) out.push(channel);
    }
    return out;
  }

  async acquire(channel: string, owner: string, ttlMs: number): Promise<number> {
    const now = this.broker.now();
    const lease = this.state.leases.get(channel);
    if (lease && lease.owner !== owner && lease.expiresAt > now) return lease.expiresAt - now;
    this.state.leases.set(channel, { owner, expiresAt: now + ttlMs });
    return 0;
  }

  async release(channel: string, owner: string): Promise<void> {
    if (this.holds(channel, owner)) this.state.leases.delete(channel);
  }

  async next(channel: string, owner: string, receiver: string, newId: string, now: number, max: { maxEvents: number; maxBytes: number }): Promise<OutboxBatch | 'idle' | Lost> {
    if (!this.holds(channel, owner)) return 'lost';
    const known = this.state.channels.get(channel);
    const saved = known?.batches.get(receiver);
    if (saved) return saved;
    const queue = this.broker.outbox.get(channel) ?? [];
    const base = known?.base ?? 0;
    const from = (known?.cursors.get(receiver) ?? base - 1) + 1;
    const events: string[] = [];
    let bytes = 0;
    for (let i = from - base; i < queue.length && events.length < max.maxEvents; i++) {
      const json = transitionJson(queue[i]!);
      bytes += json.length;
      if (events.length > 0 && bytes > max.maxBytes) break;
      events.push(json);
    }
    if (events.length === 0) return 'idle';
    const batch: MemoryBatch = { id: newId, time: now, attempts: 0, due: now, events, oldest: queue[from - base]!.time, first: from, last: from + events.length - 1 };
    this.channel(channel).batches.set(receiver, batch);
    return batch;
  }

  async settle(channel: string, owner: string, receiver: string, batchId: string, receivers: readonly string[]): Promise<void | Lost> {
    if (!this.holds(channel, owner)) return 'lost';
    const state = this.channel(channel);
    const batch = state.batches.get(receiver);
    if (batch?.id === batchId) {
      state.cursors.set(receiver, batch.last);
      state.batches.delete(receiver);
    }
    const queue = this.broker.outbox.get(channel) ?? [];
    const cursors = receivers.map((r) => state.cursors.get(r));
    if (cursors.some((c) => c === undefined)) return;
    const through = Math.min(...(cursors as number[]));
    if (through >= state.base) {
      queue.splice(0, through - state.base + 1);
      state.base = through + 1;
    }
    if (queue.length === 0) {
      // Like the Redis outbox: an empty outbox goes with its state; positions start again.
      this.broker.outbox.delete(channel);
      this.state.channels.delete(channel);
    }
  }

  async reschedule(channel: string, owner: string, receiver: string, batchId: string, attempts: number, due: number): Promise<void | Lost> {
    if (!this.holds(channel, owner)) return 'lost';
    const batch = this.state.channels.get(channel)?.batches.get(receiver);
    if (batch?.id !== batchId) return;
    batch.attempts = attempts;
    batch.due = due;
  }

  async hasWork(channel: string, receivers: readonly string[], now: number): Promise<boolean> {
    const state = this.state.channels.get(channel);
    const appended = this.appended(channel);
    return receivers.some((r) => {
      const batch = state?.batches.get(r);
      if (batch) return batch.due <= now;
      return (state?.cursors.get(r) ?? (state?.base ?? 0) - 1) + 1 < appended;
    });
  }

  async park(channel: string, at: number): Promise<void> {
    if (this.broker.outbox.has(channel)) this.channel(channel).parked = { until: at, appended: this.appended(channel) };
  }

  async unmark(channel: string): Promise<void> {
    const state = this.state.channels.get(channel);
    if (state) delete state.parked;
  }

  async repair(): Promise<number> {
    // Appends and the work list are one map: nothing can be left unmarked.
    return 0;
  }

  async oldest(): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const queue of this.broker.outbox.values()) {
      const first = queue[0];
      if (first && (oldest === undefined || first.time < oldest)) oldest = first.time;
    }
    return oldest;
  }

  /** The position after the channel's newest transition. */
  private appended(channel: string): number {
    return (this.state.channels.get(channel)?.base ?? 0) + (this.broker.outbox.get(channel)?.length ?? 0);
  }

  private holds(channel: string, owner: string): boolean {
    const lease = this.state.leases.get(channel);
    return lease !== undefined && lease.owner === owner && lease.expiresAt > this.broker.now();
  }

  private channel(channel: string): ChannelState {
    let state = this.state.channels.get(channel);
    if (!state) this.state.channels.set(channel, (state = { base: 0, cursors: new Map(), batches: new Map() }));
    return state;
  }
}
