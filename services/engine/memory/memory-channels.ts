import type { ChannelPage, Channels } from '../channels.js';
import type { MemoryBroker } from './memory-broker.js';

/** One replica's Channels on a MemoryBroker: the reference semantics of channels.ts (counts are exact, no lag). */
export class MemoryChannels implements Channels {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly replica: string,
    /** Whether transitions go to the webhook outbox (WEBHOOK_URLS set). */
    private readonly webhooks: (channel: string) => boolean,
  ) {}

  async occupy(channel: string): Promise<void> {
    let occupiers = this.broker.occupancy.get(channel);
    if (!occupiers) this.broker.occupancy.set(channel, (occupiers = new Map()));
    if (occupiers.has(this.replica)) return;
    occupiers.set(this.replica, 0);
    if (occupiers.size === 1) this.broker.append(this.webhooks(channel), { kind: 'channel.occupied', channel, time: this.broker.now() });
  }

  async vacate(channel: string): Promise<void> {
    this.release(channel, this.replica);
  }

  report(channel: string, count: number): void {
    const occupiers = this.broker.occupancy.get(channel);
    if (occupiers?.has(this.replica)) occupiers.set(this.replica, count);
  }

  async subscribers(channel: string): Promise<number> {
    let total = 0;
    for (const count of this.broker.occupancy.get(channel)?.values() ?? []) total += count;
    return total;
  }

  async list({ prefix, after, limit }: { prefix: string; after?: string; limit: number }): Promise<ChannelPage> {
    const names = [...this.broker.occupancy.keys()].filter((c) => c.startsWith(prefix) && (after === undefined || c > after)).sort();
    const page = names.slice(0, limit);
    const channels = await Promise.all(page.map(async (channel) => ({ channel, subscribers: await this.subscribers(channel) })));
    return { channels, next: names.length > limit ? page[page.length - 1]! : null };
  }

  /** Vacates every channel of a replica that stopped without vacating (memory-liveness.ts). */
  expireReplica(replica: string): void {
    for (const channel of [...this.broker.occupancy.keys()]) this.release(channel, replica);
  }

  private release(channel: string, replica: string): void {
    const occupiers = this.broker.occupancy.get(channel);
    if (!occupiers?.delete(replica)) return;
    if (occupiers.size > 0) return;
    this.broker.occupancy.delete(channel);
    this.broker.append(this.webhooks(channel), { kind: 'channel.vacated', channel, time: this.broker.now() });
  }
}
