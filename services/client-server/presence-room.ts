import type { Logger } from 'pino';
import type { JsonObject, Presence, PresenceMember } from '../engine/presence.js';
import { joinMessage, leaveMessage, presenceJson } from '../protocol/client-messages.js';
import { PresenceView } from './presence-view.js';
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
 * One channel's presence as this client-server's native presence
 * subscribers see it (presence-view.ts): every local subscriber's `members`
 * reply comes from the view, and every join and leave message is built once
 * for all of them.
 */
export class PresenceRoom extends PresenceView<JsonObject> {
  private readonly listeners = new Set<PresenceListener>();
  /** The reply's `presence` JSON, kept until the view changes: a reconnect storm builds it once. */
  private reply: string | undefined;

  constructor(channel: string, presence: Pick<Presence, 'members'>, logger: Logger) {
    super(channel, presence, logger, PRESENCE_VIEW_LIMIT);
  }

  /**
   * Adds `listener` (whose own connection already joined as `self`) and
   * returns its reply's `presence` JSON, which lists the subscriber's own user.
   */
  attach(listener: PresenceListener, self: PresenceMember): string {
    this.addSelf(self.user, self.info);
    this.listeners.add(listener);
    return (this.reply ??= this.buildReply());
  }

  detach(listener: PresenceListener): void {
    this.listeners.delete(listener);
  }

  protected encode(info: JsonObject): JsonObject {
    return info;
  }

  protected override changed(): void {
    this.reply = undefined;
  }

  protected joined(user: string, info: JsonObject): void {
    // Built once per change, shared by every listener.
    if (this.listeners.size > 0) this.tell(user, { kind: 'join', user, json: joinMessage(this.channel, user, info) });
  }

  protected left(user: string): void {
    if (this.listeners.size > 0) this.tell(user, { kind: 'leave', user, json: leaveMessage(this.channel, user) });
  }

  private tell(user: string, message: PresenceMessage): void {
    for (const listener of this.listeners) if (listener.presenceUser !== user) listener.deliverPresence(message);
  }

  private buildReply(): string {
    const users = [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, PRESENCE_LIST_LIMIT);
    const count = this.size;
    return presenceJson(
      count,
      users.map((user) => ({ user, info: this.members.get(user)! })),
      count > users.length,
    );
  }
}
