import type { Logger } from 'pino';
import type { JsonObject, Presence, PresenceChange, PresenceMember, PresenceSnapshot } from '../engine/presence.js';
import { joinMessage, leaveMessage, presenceJson } from '../protocol/client-messages.js';
import type { PresenceListener, PresenceMessage } from './subscription.js';

/** PROTOCOL.md v1.1: a `subscribed` reply lists at most this many members. */
export const PRESENCE_LIST_LIMIT = 1000;
/**
 * Members a room's view holds. Presence is for rooms people see each other
 * in (Pusher caps them at 100, Ably at 200); ten thousand is far above that
 * and bounds what one channel's view costs here (info is up to 1 KiB each).
 * Beyond it the view is partial: counts stay exact, but leaves of unlisted
 * users cannot be deduplicated and a re-sync only covers the listed ones.
 */
export const PRESENCE_VIEW_LIMIT = 10_000;

/**
 * One channel's presence as this client-server's presence subscribers see
 * it: a view read once from the engine, then kept up to date by the
 * transitions the bus delivers (Hub.onPresence). Every local subscriber's
 * `members` reply comes from this view and every later change from the same
 * ordered stream, so a subscriber's list plus its join/leave messages always
 * add up, without one engine read per subscribe (a thousand reconnecting
 * members would otherwise each read the thousand others).
 *
 * Changes are applied idempotently (a join of a known user, a leave of an
 * unknown one, is dropped): a transition that a snapshot already shows is
 * not news. Changes arriving while a snapshot is read are queued and
 * applied after it, so the view ends where the engine is.
 */
export class PresenceRoom {
  private members = new Map<string, JsonObject>();
  private count = 0;
  /** True when the engine holds more members than the view (PRESENCE_VIEW_LIMIT). */
  private partial = false;
  private readonly listeners = new Set<PresenceListener>();
  /** Changes that arrived while a snapshot is read; null when none is. */
  private queued: PresenceChange[] | null = [];
  private syncing: Promise<void>;
  /** The reply's `presence` JSON, kept until the view changes: a reconnect storm builds it once. */
  private reply: string | undefined;
  /** Subscriptions using this room, attached or still joining; the hub drops the room at zero. */
  refs = 0;
  /** Resolves once the first snapshot is in (rejects when it could not be read). */
  readonly loaded: Promise<void>;

  constructor(
    readonly channel: string,
    private readonly presence: Pick<Presence, 'members'>,
    private readonly logger: Logger,
  ) {
    this.loaded = this.read();
    this.syncing = this.loaded.catch(() => undefined);
  }

  /**
   * Reads the engine's members again and tells listeners the differences:
   * after the bus resumed a channel, transitions sent meanwhile may have been
   * missed. One read at a time.
   */
  sync(): Promise<void> {
    const run = this.syncing.then(() => this.read());
    this.syncing = run.catch((err: unknown) => this.logger.warn({ err, channel: this.channel }, 'presence re-sync failed; the view may be stale'));
    return this.syncing;
  }

  /** A transition from the bus. */
  apply(change: PresenceChange): void {
    if (this.queued) this.queued.push(change);
    else this.applyNow(change);
  }

  /**
   * Adds `listener` (whose own connection already joined as `self`) and
   * returns its reply's `presence` JSON. `self` is put in the view if its
   * transition has not come back from the bus yet: the reply lists the
   * subscriber's own user, and the transition, when it comes, is no news.
   */
  attach(listener: PresenceListener, self: PresenceMember): string {
    this.applyNow({ type: 'join', user: self.user, info: self.info });
    this.queued?.push({ type: 'join', user: self.user, info: self.info });
    this.listeners.add(listener);
    return (this.reply ??= this.buildReply());
  }

  detach(listener: PresenceListener): void {
    this.listeners.delete(listener);
  }

  private async read(): Promise<void> {
    this.queued ??= [];
    let snapshot: PresenceSnapshot | undefined;
    try {
      snapshot = await this.presence.members(this.channel, PRESENCE_VIEW_LIMIT);
    } finally {
      const queued = this.queued ?? [];
      this.queued = null;
      if (snapshot) this.replace(snapshot);
      for (const change of queued) this.applyNow(change);
    }
  }

  /** Brings the view to `snapshot`, telling listeners each difference it can be sure of. */
  private replace(snapshot: PresenceSnapshot): void {
    const next = new Map(snapshot.members.map((m) => [m.user, m.info] as const));
    // Members are sorted by user: a truncated snapshot says nothing about users after its last one.
    const lastListed = snapshot.members[snapshot.members.length - 1]?.user;
    const covered = (user: string) => !snapshot.truncated || (lastListed !== undefined && user <= lastListed);
    const previous = this.members;
    this.members = next;
    this.count = snapshot.count;
    this.partial = snapshot.truncated;
    this.reply = undefined;
    for (const user of previous.keys()) if (!next.has(user) && covered(user)) this.emit({ type: 'leave', user });
    for (const [user, info] of next) if (!previous.has(user)) this.emit({ type: 'join', user, info });
  }

  private applyNow(change: PresenceChange): void {
    if (change.type === 'join') {
      if (this.members.has(change.user)) return;
      if (this.members.size < PRESENCE_VIEW_LIMIT) this.members.set(change.user, change.info);
      else this.partial = true;
      this.count++;
    } else if (this.members.delete(change.user)) {
      this.count--;
    } else if (this.partial && this.count > this.members.size) {
      // An unlisted member of a partial view: its leave cannot be checked, so it is passed on.
      this.count--;
    } else {
      return;
    }
    this.reply = undefined;
    this.emit(change);
  }

  private emit(change: PresenceChange): void {
    if (this.listeners.size === 0) return;
    // Built once per change, shared by every listener.
    const message: PresenceMessage =
      change.type === 'join'
        ? { kind: 'join', user: change.user, json: joinMessage(this.channel, change.user, change.info) }
        : { kind: 'leave', user: change.user, json: leaveMessage(this.channel, change.user) };
    for (const listener of this.listeners) if (listener.presenceUser !== change.user) listener.deliverPresence(message);
  }

  private buildReply(): string {
    const users = [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, PRESENCE_LIST_LIMIT);
    const count = Math.max(this.count, this.members.size);
    return presenceJson(
      count,
      users.map((user) => ({ user, info: this.members.get(user)! })),
      count > users.length,
    );
  }
}
