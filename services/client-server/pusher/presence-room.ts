import type { Logger } from 'pino';
import type { JsonObject, Presence, PresenceChange } from '../../engine/presence.js';
import { memberAdded, memberRemoved, presenceData } from '../../protocol/pusher/messages.js';
import { pusherInfoJson } from '../../protocol/pusher/presence-member.js';
import type { PresenceObserver } from '../hub.js';
import { PresenceView } from '../presence-view.js';

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
 * One presence channel as this client-server's Pusher subscribers see it
 * (presence-view.ts), on the engine's presence shared with native presence
 * and every other client-server: each `member_added`/`member_removed` is
 * encoded once for all of them, and applying changes idempotently is what
 * makes `member_added` once per user.
 */
export class PusherPresenceRoom extends PresenceView<string> {
  private readonly listeners = new Set<RoomListener>();
  /** The first read failed: the next subscriber gets a new room. */
  failed = false;

  constructor(
    native: string,
    readonly name: string,
    presence: Pick<Presence, 'members'>,
    logger: Logger,
  ) {
    super(native, presence, logger, ROOM_VIEW_LIMIT);
    this.loaded.catch(() => {
      this.failed = true;
    });
  }

  /** The engine's channel. */
  get native(): string {
    return this.channel;
  }

  has(user: string): boolean {
    return this.members.has(user);
  }

  /**
   * Adds `listener`, whose connection already joined as `self`, and returns
   * the `subscription_succeeded` data: every member, itself included, at
   * most `limit` of them listed.
   */
  attach(listener: RoomListener, self: { user: string; info: Record<string, unknown> }, limit: number): string {
    this.addSelf(self.user, self.info as JsonObject);
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

  protected encode(info: JsonObject): string {
    return pusherInfoJson(info);
  }

  protected joined(user: string, infoJson: string): void {
    this.tell(user, memberAdded(this.name, user, infoJson));
  }

  protected left(user: string): void {
    this.tell(user, memberRemoved(this.name, user));
  }

  private tell(user: string, text: string): void {
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
