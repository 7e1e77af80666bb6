import type { Presence, PresenceEntry, PresenceMember, PresenceSnapshot } from '../presence.js';
import type { MemoryBroker } from './memory-broker.js';
import type { MemoryBus } from './memory-bus.js';

/** One replica's Presence on a MemoryBroker: the reference semantics of presence.ts. */
export class MemoryPresence implements Presence {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly replica: string,
    private readonly bus: MemoryBus,
    /** Whether transitions go to the webhook outbox (WEBHOOK_URLS set). */
    private readonly webhooks: (channel: string) => boolean,
  ) {}

  async join(channel: string, connection: string, member: PresenceMember): Promise<void> {
    let members = this.broker.presence.get(channel);
    if (!members) this.broker.presence.set(channel, (members = new Map()));
    const key = `${this.replica}|${connection}`;
    if (members.has(key)) return;
    const first = ![...members.values()].some((m) => m.user === member.user);
    members.set(key, { replica: this.replica, user: member.user, info: member.info });
    if (!first) return;
    this.broker.append(this.webhooks(channel), { kind: 'presence.join', channel, time: this.broker.now(), user: member.user });
    this.bus.deliverPresence(channel, { type: 'join', user: member.user, info: member.info });
  }

  async leave(channel: string, connection: string): Promise<void> {
    this.remove(channel, (key) => key === `${this.replica}|${connection}`);
  }

  async members(channel: string, limit: number): Promise<PresenceSnapshot> {
    const byUser = new Map<string, PresenceEntry>();
    for (const m of this.broker.presence.get(channel)?.values() ?? []) {
      const entry = byUser.get(m.user);
      if (entry) entry.connections++;
      else byUser.set(m.user, { user: m.user, info: m.info, connections: 1 });
    }
    const all = [...byUser.values()].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
    return { count: all.length, members: all.slice(0, limit), truncated: all.length > limit };
  }

  /** Removes every member of a replica that stopped without leaving (memory-liveness.ts), each last one a leave. */
  expireReplica(replica: string): void {
    for (const channel of [...this.broker.presence.keys()]) this.remove(channel, (_key, m) => m.replica === replica);
  }

  private remove(channel: string, match: (key: string, m: { replica: string; user: string }) => boolean): void {
    const members = this.broker.presence.get(channel);
    if (!members) return;
    const left = new Set<string>();
    for (const [key, m] of members) {
      if (!match(key, m)) continue;
      members.delete(key);
      left.add(m.user);
    }
    for (const m of members.values()) left.delete(m.user);
    if (members.size === 0) this.broker.presence.delete(channel);
    for (const user of left) {
      this.broker.append(this.webhooks(channel), { kind: 'presence.leave', channel, time: this.broker.now(), user });
      this.bus.deliverPresence(channel, { type: 'leave', user });
    }
  }
}
