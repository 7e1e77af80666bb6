import { RelayError } from '../../protocol/errors.js';
import type { Presence, PresenceEntry, PresenceMember, PresenceSnapshot } from '../presence.js';
import type { RedisClient } from './connections.js';
import { presenceInfoKey, presenceMembersKey, presenceUsersKey, outboxKey, replicaChannelsKey, topicName } from './keys.js';
import { markOutbox } from './outbox-mark.js';
import { PRESENCE_EXPIRE_SCRIPT, PRESENCE_JOIN_SCRIPT, PRESENCE_LEAVE_SCRIPT } from './scripts/presence-scripts.js';
import { scriptCommand } from './scripts.js';

type Script = (keys: string[], args: (string | number)[]) => Promise<unknown>;

export interface RedisPresenceDeps {
  redis: RedisClient;
  replica: string;
  /** How the scripts publish a transition live: `SPUBLISH` on a Redis Cluster (sharded pub/sub), else `PUBLISH`. */
  publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** Whether a channel's transitions go to its webhook outbox (engine/webhooks/routes.ts). */
  webhooks: (channel: string) => boolean;
  /** Resolves once this replica is known to the others (liveness.ts). */
  registered(): Promise<void>;
  now?: () => number;
}

/**
 * Presence in Redis (presence.ts states the guarantees): per channel a hash
 * of members by connection and a count per user, changed by one script per
 * join or leave that also publishes the transition live and appends it to
 * the outbox. It remembers its own members, so that a replica taken for dead
 * by the others (a long pause) can register them again.
 */
export class RedisPresence implements Presence {
  private readonly joinScript: Script;
  private readonly leaveScript: Script;
  private readonly expireScript: Script;
  private readonly now: () => number;
  /** This replica's members: channel → connection → member. */
  private readonly mine = new Map<string, Map<string, PresenceMember>>();

  constructor(private readonly deps: RedisPresenceDeps) {
    this.joinScript = scriptCommand(deps.redis, 'eventrelayPresenceJoin', PRESENCE_JOIN_SCRIPT, 4);
    this.leaveScript = scriptCommand(deps.redis, 'eventrelayPresenceLeave', PRESENCE_LEAVE_SCRIPT, 4);
    this.expireScript = scriptCommand(deps.redis, 'eventrelayPresenceExpire', PRESENCE_EXPIRE_SCRIPT, 4);
    this.now = deps.now ?? Date.now;
  }

  async join(channel: string, connection: string, member: PresenceMember): Promise<void> {
    let members = this.mine.get(channel);
    if (!members) this.mine.set(channel, (members = new Map()));
    members.set(connection, member);
    await this.guard(channel, async () => {
      // Written ahead: if this process dies from here on, another replica knows where to clean up.
      await this.deps.registered();
      await this.deps.redis.sadd(replicaChannelsKey(this.deps.replica), channel);
      await this.run(this.joinScript, channel, [this.field(connection), member.user, JSON.stringify(member.info)]);
    });
  }

  async leave(channel: string, connection: string): Promise<void> {
    const members = this.mine.get(channel);
    members?.delete(connection);
    if (members?.size === 0) this.mine.delete(channel);
    await this.guard(channel, () => this.run(this.leaveScript, channel, [this.field(connection)]));
  }

  async members(channel: string, limit: number): Promise<PresenceSnapshot> {
    const [users, infos] = await this.guard(channel, () =>
      Promise.all([this.deps.redis.hgetall(presenceUsersKey(channel)), this.deps.redis.hgetall(presenceInfoKey(channel))]),
    );
    const all: PresenceEntry[] = Object.keys(users)
      .sort()
      .map((user) => ({ user, info: parseInfo(infos[user]), connections: Number(users[user]) }));
    return { count: all.length, members: all.slice(0, limit), truncated: all.length > limit };
  }

  /** Removes every member of a dead replica from `channel` (liveness.ts); each last connection of a user is a leave. */
  async expireReplica(replica: string, channel: string): Promise<void> {
    await this.run(this.expireScript, channel, [`${replica}|`]);
  }

  /** Registers this replica's members again after the others took it for dead. */
  async reassert(): Promise<void> {
    for (const [channel, members] of this.mine) {
      for (const [connection, member] of members) await this.join(channel, connection, member);
    }
  }

  private field(connection: string): string {
    return `${this.deps.replica}|${connection}`;
  }

  private async run(script: Script, channel: string, args: string[]): Promise<unknown> {
    const time = this.now();
    const keys = [presenceMembersKey(channel), presenceUsersKey(channel), presenceInfoKey(channel), outboxKey(channel)];
    if (this.deps.webhooks(channel)) await markOutbox(this.deps.redis, channel, time);
    const result = await script(keys, [topicName(channel), this.deps.webhooks(channel) ? '1' : '0', time, channel, this.deps.publishCommand, ...args]);
    if (this.deps.webhooks(channel)) await markOutbox(this.deps.redis, channel, time);
    return result;
  }

  private async guard<T>(channel: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new RelayError('unavailable', 'Presence (Redis) cannot be reached right now; retry shortly.', { channel, cause: err });
    }
  }
}

function parseInfo(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
