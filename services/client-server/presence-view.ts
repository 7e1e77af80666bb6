import type { Logger } from 'pino';
import type { JsonObject, Presence, PresenceChange, PresenceSnapshot } from '../engine/presence.js';

/**
 * One channel's presence as this client-server's subscribers of one protocol
 * see it (native: presence-room.ts; Pusher: pusher/presence-room.ts): a view
 * read once from the engine, then kept up to date by the transitions the bus
 * delivers. Every local subscriber's member list comes from this view and
 * every later change from the same ordered stream, so a list plus its
 * changes always add up, without one engine read per subscribe (a thousand
 * reconnecting members would otherwise each read the thousand others).
 *
 * Changes are applied idempotently (a join of a known user, a leave of an
 * unknown one, is dropped): a transition that a snapshot already shows is
 * not news. Changes arriving while a snapshot is read are queued and applied
 * after it, so the view ends where the engine is. A protocol says how it
 * keeps a member's info (`encode`) and how it tells listeners (`joined`,
 * `left`).
 */
export abstract class PresenceView<Info> {
  protected members = new Map<string, Info>();
  protected count = 0;
  /** True when the engine holds more members than the view (`viewLimit`). */
  protected partial = false;
  /** Changes that arrived while a snapshot is read; null when none is. */
  private queued: PresenceChange[] | null = [];
  private syncing: Promise<void>;
  /** Subscriptions using this view, attached or still joining; its owner drops it at zero. */
  refs = 0;
  /** Resolves once the first snapshot is in (rejects when it could not be read). */
  readonly loaded: Promise<void>;

  constructor(
    /** The engine's channel. */
    readonly channel: string,
    private readonly presence: Pick<Presence, 'members'>,
    protected readonly logger: Logger,
    /** Members the view holds at most; beyond it counts stay exact, the list is partial. */
    private readonly viewLimit: number,
  ) {
    this.loaded = this.read();
    this.syncing = this.loaded.catch(() => undefined);
  }

  /** A member's info as this protocol keeps it (encoded once, for every listener). */
  protected abstract encode(info: JsonObject): Info;
  /** Tells the listeners that `user` joined; `info` as `encode` made it. */
  protected abstract joined(user: string, info: Info): void;
  /** Tells the listeners that `user` left. */
  protected abstract left(user: string): void;
  /** The view changed (a cached reply is stale). */
  protected changed(): void {}

  /** Users and counts the view holds: never fewer than it lists. */
  get size(): number {
    return Math.max(this.count, this.members.size);
  }

  /** A transition from the bus. */
  apply(change: PresenceChange): void {
    if (this.queued) this.queued.push(change);
    else this.applyNow(change);
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

  /**
   * Puts a new listener's own user in the view if its transition has not
   * come back from the bus yet: its list shows itself, and the transition,
   * when it comes, is no news.
   */
  protected addSelf(user: string, info: JsonObject): void {
    this.applyNow({ type: 'join', user, info });
    this.queued?.push({ type: 'join', user, info });
  }

  private async read(): Promise<void> {
    this.queued ??= [];
    let snapshot: PresenceSnapshot | undefined;
    try {
      snapshot = await this.presence.members(this.channel, this.viewLimit);
    } finally {
      const queued = this.queued ?? [];
      this.queued = null;
      if (snapshot) this.replace(snapshot);
      for (const change of queued) this.applyNow(change);
    }
  }

  /** Brings the view to `snapshot`, telling listeners each difference it can be sure of. */
  private replace(snapshot: PresenceSnapshot): void {
    const next = new Map(snapshot.members.map((m) => [m.user, this.encode(m.info)] as const));
    // Members are sorted by user: a truncated snapshot says nothing about users after its last one.
    const lastListed = snapshot.members[snapshot.members.length - 1]?.user;
    const covered = (user: string) => !snapshot.truncated || (lastListed !== undefined && user <= lastListed);
    const previous = this.members;
    this.members = next;
    this.count = snapshot.count;
    this.partial = snapshot.truncated;
    this.changed();
    for (const user of previous.keys()) if (!next.has(user) && covered(user)) this.left(user);
    for (const [user, info] of next) if (!previous.has(user)) this.joined(user, info);
  }

  private applyNow(change: PresenceChange): void {
    if (change.type === 'join') {
      if (this.members.has(change.user)) return;
      const info = this.encode(change.info);
      if (this.members.size < this.viewLimit) this.members.set(change.user, info);
      else this.partial = true;
      this.count++;
      this.changed();
      this.joined(change.user, info);
      return;
    }
    if (this.members.delete(change.user)) this.count--;
    // An unlisted member of a partial view: its leave cannot be checked, so it is passed on.
    else if (this.partial && this.count > this.members.size) this.count--;
    else return;
    this.changed();
    this.left(change.user);
  }
}
