import type { BusHandler } from '../bus.js';
import type { Transition } from '../outbox.js';
import { MemoryStore, type MemoryStoreConfig } from './memory-store.js';

/** Expired idempotency keys and idle channels are swept this often, so memory stays bounded by live ones. */
const SWEEP_INTERVAL_MS = 60_000;

export interface MemoryBrokerOptions {
  config: MemoryStoreConfig;
  /** Injected for tests; ids use it like Redis uses its clock. */
  now?: () => number;
}

/**
 * Everything the in-memory broker holds, shared by every engine built on it
 * (one per "replica" of a process: the embedded mode has one, the engine
 * contract tests two, to show cross-replica semantics without Redis). It
 * plays the part Redis plays for the Redis engine: histories, live fan-out
 * to every replica's bus, presence, occupancy, replica liveness and the
 * webhook outbox.
 */
export class MemoryBroker {
  readonly now: () => number;
  readonly store: MemoryStore;
  /** Per channel, the handler of every replica's bus subscribed to it. */
  readonly listeners = new Map<string, Set<BusHandler>>();
  /** Per channel, per connection key (`<replica>|<connection>`), the member it is. */
  readonly presence = new Map<string, Map<string, { replica: string; user: string; info: Record<string, unknown> }>>();
  /** Per channel, per replica occupying it, its reported subscription count. */
  readonly occupancy = new Map<string, Map<string, number>>();
  /** Per replica, when it last said it is alive (ms). */
  readonly replicas = new Map<string, number>();
  /** Per channel, transitions not yet delivered as webhooks, in order (engine/webhooks drains it). */
  readonly outbox = new Map<string, Transition[]>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryBrokerOptions) {
    this.now = options.now ?? Date.now;
    this.store = new MemoryStore(options.config, this.now, (t) => this.append(true, t));
    this.sweepTimer = setInterval(() => this.store.sweep((c) => (this.listeners.get(c)?.size ?? 0) > 0), SWEEP_INTERVAL_MS).unref();
  }

  /** Appends transitions to their channels' outboxes, when webhooks are configured (`enabled`). */
  append(enabled: boolean, ...transitions: Transition[]): void {
    if (!enabled) return;
    for (const t of transitions) {
      const queue = this.outbox.get(t.channel);
      if (queue) queue.push(t);
      else this.outbox.set(t.channel, [t]);
    }
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }
}
