import type { PresenceChange, PresenceMember, PresenceSnapshot } from './types.js';

/**
 * One channel's member list, kept up to date from the `subscribed` reply's
 * `presence` and the `join` / `leave` messages that follow it.
 */
export class PresenceRoster {
  private readonly members = new Map<string, Record<string, unknown>>();
  private count = 0;
  private truncated = false;

  constructor(private readonly channel: string) {}

  /** A (re)subscribe's full list replaces whatever was known: members may have changed while disconnected. */
  sync(reply: { count?: number; members?: PresenceMember[]; truncated?: boolean } | undefined): PresenceChange {
    this.members.clear();
    for (const m of reply?.members ?? []) if (typeof m?.user === 'string') this.members.set(m.user, m.info ?? {});
    this.count = typeof reply?.count === 'number' ? reply.count : this.members.size;
    this.truncated = reply?.truncated === true;
    return { channel: this.channel, type: 'sync', presence: this.snapshot() };
  }

  join(user: string, info: Record<string, unknown> = {}): PresenceChange {
    // A join racing the subscribed reply may name a user already listed: count each user once.
    if (!this.members.has(user)) this.count++;
    this.members.set(user, info);
    return { channel: this.channel, type: 'join', user, info, presence: this.snapshot() };
  }

  leave(user: string): PresenceChange {
    // A truncated list does not hold every member, but the count does.
    if (this.members.delete(user) || this.truncated) this.count = Math.max(0, this.count - 1);
    return { channel: this.channel, type: 'leave', user, presence: this.snapshot() };
  }

  snapshot(): PresenceSnapshot {
    return { count: this.count, members: [...this.members].map(([user, info]) => ({ user, info })), truncated: this.truncated };
  }
}
