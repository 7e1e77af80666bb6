import type { Logger } from 'pino';
import { STREAM_IDS } from '../../protocol/event-id.js';
import type { Bus, BusEvent, BusHandler, BusHealth, HistoryResult, OutgoingEvent, PublishResult } from '../bus.js';
import type { PresenceChange } from '../presence.js';
import { MemoryBroker } from './memory-broker.js';
import type { MemoryStoreConfig } from './memory-store.js';

export interface MemoryBusDeps {
  config: MemoryStoreConfig;
  logger: Logger;
  /** Injected for tests; ids use it like Redis uses its clock. */
  now?: () => number;
  /** The broker this bus is one replica's view of. Default: a broker of its own (and closed with it). */
  broker?: MemoryBroker;
}

/**
 * The bus inside one process (embedded mode, fast tests): one replica's view
 * of a MemoryBroker, with the same semantics as RedisBus. Nothing survives
 * the process.
 */
export class MemoryBus implements Bus {
  readonly ids = STREAM_IDS;
  readonly broker: MemoryBroker;
  private readonly handlers = new Map<string, BusHandler>();
  private readonly logger: Logger;
  private readonly ownsBroker: boolean;

  constructor(deps: MemoryBusDeps) {
    this.logger = deps.logger.child({ component: 'memory-bus' });
    this.ownsBroker = deps.broker === undefined;
    this.broker = deps.broker ?? new MemoryBroker({ config: deps.config, now: deps.now });
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult[]> {
    const { results, stored } = this.broker.store.store(events);
    for (const event of stored) this.fanOut(event.channel, (handler) => handler.onEvent(event));
    return results;
  }

  async subscribe(channel: string, handler: BusHandler): Promise<void> {
    if (this.handlers.has(channel)) throw new Error(`MemoryBus: ${channel} is already subscribed`);
    this.handlers.set(channel, handler);
    let set = this.broker.listeners.get(channel);
    if (!set) this.broker.listeners.set(channel, (set = new Set()));
    set.add(handler);
  }

  async unsubscribe(channel: string): Promise<void> {
    const handler = this.handlers.get(channel);
    if (!handler) return;
    this.handlers.delete(channel);
    const set = this.broker.listeners.get(channel);
    set?.delete(handler);
    if (set?.size === 0) this.broker.listeners.delete(channel);
  }

  async history(channel: string, since: string, limit?: number): Promise<HistoryResult> {
    return this.broker.store.history(channel, since, limit);
  }

  async latest(channel: string, limit: number): Promise<BusEvent[]> {
    return this.broker.store.latest(channel, limit);
  }

  health(): BusHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    for (const channel of [...this.handlers.keys()]) await this.unsubscribe(channel);
    if (this.ownsBroker) this.broker.close();
  }

  /** Hands a presence transition to every bus subscribed to `channel` (memory-presence.ts). */
  deliverPresence(channel: string, change: PresenceChange): void {
    this.fanOut(channel, (handler) => handler.onPresence?.(channel, change));
  }

  private fanOut(channel: string, deliver: (handler: BusHandler) => void): void {
    const set = this.broker.listeners.get(channel);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        deliver(handler);
      } catch (err) {
        this.logger.error({ err, channel }, 'bus handler threw; event delivery continues');
      }
    }
  }
}
