import type { Logger } from 'pino';
import type { Presence, PresenceChange, PresenceSnapshot } from '../../engine/presence.js';
import { memberAdded, memberRemoved, presenceData } from '../../protocol/pusher/messages.js';
import { pusherInfoJson } from '../../protocol/pusher/presence-member.js';
import type { PresenceObserver } from '../hub.js';

/**
 * Members a room's view reads: above the largest member limit an app may set
 * (1,000), so a full Pusher channel is always seen whole; a channel that
 * native members filled further is shown partially (counts stay exact).
 */
export const ROOM_VIEW_LIMIT = 1000;

/** A Pusher presence subscription of one socket, as its room tells it of others. */
export interface RoomListener {
  /** Its own user: its own user's transitions are no news to it. */
  readonly presenceUser: string;
  sendText(text: string): void;
}

/**
 * One presence channel as this client-server's Pusher subscribers see it: a
 * view read once from the engine's presence (shared with native presence
 * and every other client-server), then kept up to date by the transitions
 * the bus delivers. Every local subscriber's member list comes from this
 * view and every later `member_added`/`member_removed` from the same ordered
 * stream, so a list plus its changes always add up, and each change is
 * encoded once for all of them. Changes are applied idempotently: a join of
 * a known user or a leave of an unknown one is no news, which is what makes
 * `member_added` once per user.
 */
export class PusherPresenceRoom {
  private members = new Map<string, string>();
  private count = 0;
  private partial = false;
  private readonly listeners = new Set<RoomListener>();
  private queued: PresenceChange[] | null = [];
  private syncing: Promise<void>;
  /** Subscriptions using the room, attached or still joining; dropped at zero. */
  refs = 0;
  /** The first read failed: the next subscriber gets a new room. */
  failed = false;
  readonly loaded: Promise<void>;

  constructor(
    readonly native: string,
    readonly name: string,
    private readonly presence: Pick<Presence, 'members'>,
    private readonly logger: Logger,
  ) {
    this.loaded = this.read();
    this.syncing = this.loaded.catch(() => {
      this.failed = true;
    });
  }

  get size(): number {
    return Math.max(this.count, this.members.size);
  }

  has(user: string): boolean {
    return this.members.has(user);
  }

  apply(change: PresenceChange): void {
    if (this.queued) this.queued.push(change);
    else this.applyNow(change);
  }

  /** Reads the members again after the bus resumed (transitions of the meantime may be missing) and tells the differences. */
  sync(): Promise<void> {
    const run = this.syncing.then(() => this.read());
    this.syncing = run.catch((err: unknown) => this.logger.warn({ err, channel: this.native }, 'presence re-sync failed; the view may be stale'));
    return this.syncing;
  }

  /**
   * Adds `listener`, whose connection already joined as `self`, and returns
   * the `subscription_succeeded` data: every member, itself included, at
   * most `limit` of them listed.
   */
  attach(listener: RoomListener, self: { user: string; info: Record<string, unknown> }, limit: number): string {
    this.applyNow({ type: 'join', user: self.user, info: self.info });
    this.queued?.push({ type: 'join', user: self.user, info: self.info });
    this.listeners.add(listener);
    const listed = [...this.members.keys()].sort().slice(0, limit);
    return presenceData(
      listed.map((userId) => ({ userId, infoJson: this.members.get(userId)! })),
      this.size,
    );
  }

  detach(listener: RoomListener): void {
    this.listeners.delete(listener);
  }

  private async read(): Promise<void> {
    this.queued ??= [];
    let snapshot: PresenceSnapshot | undefined;
    try {
      snapshot = await this.presence.members(this.native, ROOM_VIEW_LIMIT);
    } finally {
      const queued = this.queued ?? [];
      this.queued = null;
      if (snapshot) this.replace(snapshot);
      for (const change of queued) this.applyNow(change);
    }
  }

  private replace(snapshot: PresenceSnapshot): void {
    const next = new Map(snapshot.members.map((m) => [m.user, pusherInfoJson(m.info)] as const));
    const lastListed = snapshot.members[snapshot.members.length - 1]?.user;
    const covered = (user: string) => !snapshot.truncated || (lastListed !== undefined && user <= lastListed);
    const previous = this.members;
    this.members = next;
    this.count = snapshot.count;
    this.partial = snapshot.truncated;
    for (const user of previous.keys()) if (!next.has(user) && covered(user)) this.emit(user, memberRemoved(this.name, user));
    for (const [user, infoJson] of next) if (!previous.has(user)) this.emit(user, memberAdded(this.name, user, infoJson));
  }

  private applyNow(change: PresenceChange): void {
    if (change.type === 'join') {
      if (this.members.has(change.user)) return;
      const infoJson = pusherInfoJson(change.info);
      if (this.members.size < ROOM_VIEW_LIMIT) this.members.set(change.user, infoJson);
      else this.partial = true;
      this.count++;
      this.emit(change.user, memberAdded(this.name, change.user, infoJson));
      return;
    }
    if (this.members.delete(change.user)) this.count--;
    else if (this.partial && this.count > this.members.size) this.count--;
    else return;
    this.emit(change.user, memberRemoved(this.name, change.user));
  }

  private emit(user: string, text: string): void {
    for (const listener of this.listeners) if (listener.presenceUser !== user) listener.sendText(text);
  }
}

/** This process's Pusher presence rooms, fed by the hub's presence transitions. */
export class PusherPresenceRooms implements PresenceObserver {
  private readonly rooms = new Map<string, PusherPresenceRoom>();

  constructor(
    private readonly presence: Pick<Presence, 'members'>,
    private readonly logger: Logger,
  ) {}

  acquire(native: string, name: string): PusherPresenceRoom {
    let room = this.rooms.get(native);
    if (!room || room.failed) this.rooms.set(native, (room = new PusherPresenceRoom(native, name, this.presence, this.logger)));
    room.refs++;
    return room;
  }

  release(room: PusherPresenceRoom): void {
    if (--room.refs === 0 && this.rooms.get(room.native) === room) this.rooms.delete(room.native);
  }

  onPresence(channel: string, change: PresenceChange): void {
    this.rooms.get(channel)?.apply(change);
  }

  onResume(channel: string): void {
    void this.rooms.get(channel)?.sync();
  }
}
