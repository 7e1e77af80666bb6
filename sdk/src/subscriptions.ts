import { assertChannel } from './channel.js';
import { EventRelayError } from './errors.js';
import { PresenceRoster } from './presence.js';
import { toRelayEvent, type PresenceChange, type PresenceSnapshot, type RelayErrorInfo, type RelayEvent, type ServerMessage, type SubscribedInfo } from './types.js';

export interface SubscribeOptions {
  /** Resume after this event id: every held event after it is delivered first, then live ones. */
  since?: string;
  /** Join the channel's presence (PROTOCOL.md v1.1; the token needs `sub` and a matching `presence` pattern). */
  presence?: boolean;
  /** Called on every `subscribed` reply, including after each reconnect; check `recovered`. */
  onSubscribed?: (info: SubscribedInfo) => void;
  /** Called when the server refuses the subscription (`forbidden`, `invalid_channel`, ...); it is then dropped. */
  onError?: (error: RelayErrorInfo) => void;
  /** With `presence: true`: the member list after each (re)subscribe (`sync`), join and leave. */
  onPresence?: (change: PresenceChange) => void;
}

/** What the subscriptions report to the client's listeners. */
export interface SubscriptionSink {
  subscribed(info: SubscribedInfo): void;
  presence(change: PresenceChange): void;
  error(error: RelayErrorInfo): void;
  /**
   * The server could not subscribe `channel` right now (`unavailable`, e.g. a
   * client-server whose Redis connection is not back yet, or `rate_limited`):
   * send `frame()` again after `attempt`'s backoff, unless the subscription is gone.
   */
  retry(channel: string, attempt: number, frame: () => string | undefined): void;
}

interface Subscription {
  channel: string;
  onEvent: (event: RelayEvent<never>) => void;
  options: SubscribeOptions;
  /** The newest id delivered (or the `since` given); what a reconnect resumes after. */
  lastId?: string;
  /** The `since` sent with the current subscribe. */
  sentSince?: string;
  everSubscribed: boolean;
  live: boolean;
  /** Transient refusals in a row since the last `subscribed` (the retry's backoff attempt). */
  refusals: number;
  roster?: PresenceRoster;
}

/** Codes with which the server refuses a subscribe for good; retrying cannot help. */
const FATAL_SUBSCRIBE_CODES = new Set(['forbidden', 'invalid_channel', 'invalid_request']);
/** Codes of a subscribe the server could not serve right now; the same subscribe later may succeed. */
const TRANSIENT_SUBSCRIBE_CODES = new Set(['unavailable', 'rate_limited']);

/** A connection's channels: what to (re)send on open, and the channel messages the server answers with. */
export class Subscriptions {
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly sink: SubscriptionSink) {}

  get size(): number {
    return this.subs.size;
  }

  positions(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const sub of this.subs.values()) out[sub.channel] = sub.lastId;
    return out;
  }

  presence(channel: string): PresenceSnapshot | undefined {
    return this.subs.get(channel)?.roster?.snapshot();
  }

  /** Registers a subscription and returns its subscribe frame; the returned `remove` answers the unsubscribe frame, or undefined when already removed. */
  add(channel: string, onEvent: (event: RelayEvent<never>) => void, options: SubscribeOptions): { frame: () => string; remove: () => string | undefined } {
    assertChannel(channel);
    if (this.subs.has(channel)) {
      throw new EventRelayError('already_subscribed', `Already subscribed to "${channel}"; unsubscribe first.`, { channel });
    }
    const sub: Subscription = { channel, onEvent, options, lastId: options.since, everSubscribed: false, live: false, refusals: 0 };
    if (options.presence) sub.roster = new PresenceRoster(channel);
    this.subs.set(channel, sub);
    return {
      frame: () => this.subscribeFrame(sub),
      remove: () => {
        if (this.subs.get(channel) !== sub) return undefined;
        this.subs.delete(channel);
        return JSON.stringify({ type: 'unsubscribe', channel });
      },
    };
  }

  /** The subscribe frames of every channel, each resuming after its last delivered id. */
  frames(): string[] {
    return [...this.subs.values()].map((sub) => this.subscribeFrame(sub));
  }

  /** The connection is gone: every subscription waits for its next `subscribed`. */
  disconnected(): void {
    for (const sub of this.subs.values()) sub.live = false;
  }

  /** Handles a channel message; false when it is not one. */
  handle(msg: ServerMessage): boolean {
    switch (msg.type) {
      case 'event': {
        const sub = this.subs.get(msg.channel);
        // Events still in flight after a local unsubscribe are dropped.
        if (!sub) return true;
        sub.lastId = msg.id;
        sub.onEvent(toRelayEvent(msg));
        return true;
      }
      case 'subscribed':
        this.subscribed(msg);
        return true;
      case 'join':
      case 'leave': {
        const roster = this.subs.get(msg.channel)?.roster;
        if (roster && typeof msg.user === 'string') this.presenceChanged(msg.channel, msg.type === 'join' ? roster.join(msg.user, msg.info) : roster.leave(msg.user));
        return true;
      }
      case 'error': {
        const info: RelayErrorInfo = { code: msg.code, message: msg.message };
        if (msg.channel !== undefined) info.channel = msg.channel;
        const sub = msg.channel === undefined ? undefined : this.subs.get(msg.channel);
        if (sub && !sub.live && FATAL_SUBSCRIBE_CODES.has(msg.code)) {
          this.subs.delete(sub.channel);
          sub.options.onError?.(info);
        } else if (sub && !sub.live && TRANSIENT_SUBSCRIBE_CODES.has(msg.code)) {
          this.sink.retry(sub.channel, sub.refusals++, () => (this.subs.get(sub.channel) === sub && !sub.live ? this.subscribeFrame(sub) : undefined));
        }
        this.sink.error(info);
        return true;
      }
      default:
        return false;
    }
  }

  private subscribed(msg: Extract<ServerMessage, { type: 'subscribed' }>): void {
    const sub = this.subs.get(msg.channel);
    if (!sub) return;
    const info: SubscribedInfo = { channel: msg.channel, recovered: msg.recovered !== false, resumed: sub.everSubscribed };
    if (sub.sentSince !== undefined) info.since = sub.sentSince;
    sub.everSubscribed = true;
    sub.live = true;
    sub.refusals = 0;
    const sync = sub.roster?.sync(msg.presence);
    if (sync) info.presence = sync.presence;
    sub.options.onSubscribed?.(info);
    this.sink.subscribed(info);
    if (sync) this.presenceChanged(msg.channel, sync);
  }

  private presenceChanged(channel: string, change: PresenceChange): void {
    this.subs.get(channel)?.options.onPresence?.(change);
    this.sink.presence(change);
  }

  private subscribeFrame(sub: Subscription): string {
    sub.sentSince = sub.lastId;
    const message: Record<string, unknown> = { type: 'subscribe', channel: sub.channel };
    if (sub.lastId !== undefined) message.since = sub.lastId;
    if (sub.roster) message.presence = true;
    return JSON.stringify(message);
  }
}
