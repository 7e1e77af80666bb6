import type { BackoffOptions } from './backoff.js';
import { assertChannel } from './channel.js';
import { Emitter } from './emitter.js';
import { EventRelayError } from './errors.js';
import { PresenceRoster } from './presence.js';
import { Reconnection } from './reconnection.js';
import type { SseFailure, SseTransport } from './sse-transport.js';
import {
  CloseCodes,
  toRelayEvent,
  type ConnectionState,
  type PresenceChange,
  type PresenceSnapshot,
  type RelayErrorInfo,
  type RelayEvent,
  type ServerMessage,
  type StateChange,
  type SubscribedInfo,
} from './types.js';
import { streamUrl } from './url.js';

export interface StreamOptions {
  /** The channels of the stream (one or more): `/v1/sse/{channel}` for one, `/v1/sse?channels=a,b` for several. */
  channels: readonly string[];
  /** A subscriber JWT. Omit when the server runs with AUTH_DISABLED. */
  token?: string;
  /** Fetches a fresh token before the first request and after the server refused one (see ConnectOptions.getToken). */
  getToken?: () => string | Promise<string>;
  /** Join the presence of every channel of the stream (`?presence=true`). */
  presence?: boolean;
  /** Resume after this cursor: an `id` this stream (same channels) delivered before, e.g. `stream.cursor` saved earlier. */
  lastEventId?: string;
  /** Reconnect timing; defaults: base 500 ms, max 30 s, full jitter. */
  backoff?: BackoffOptions;
  /** Opens each request; default: EventSource in browsers, fetch streaming in Node. */
  transport?: SseTransport;
}

export type StreamEvents = {
  event: (event: RelayEvent<never>) => void;
  subscribed: (info: SubscribedInfo) => void;
  presence: (change: PresenceChange) => void;
  state: (change: StateChange) => void;
  error: (error: RelayErrorInfo) => void;
};

/** HTTP answers worth another request: a token problem (401, with getToken), timeouts, rate limits, 5xx. */
const RETRYABLE_STATUSES = new Set([408, 429]);

/**
 * Server-Sent Events for one or more channels on one stream (PROTOCOL.md
 * v1.1, "Several channels on one SSE stream"). The stream's `id:` is an
 * opaque cursor covering every channel; a new request resumes after it
 * (Last-Event-ID) with no gap and no duplicate.
 */
export class EventRelayStream extends Emitter<StreamEvents> {
  private readonly channels: string[];
  private readonly rosters = new Map<string, PresenceRoster>();
  private readonly seen = new Set<string>();
  private current: ConnectionState = 'connecting';
  private handle?: { close(): void };
  private lastEventId?: string;
  private sentCursor?: string;
  private readonly reconnection: Reconnection;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly options: StreamOptions & { transport: SseTransport },
  ) {
    super();
    const channels = [...(options.channels ?? [])];
    if (channels.length === 0) throw new EventRelayError('invalid_request', 'A stream needs at least one channel.');
    for (const channel of channels) assertChannel(channel);
    this.channels = channels;
    if (options.presence) for (const channel of channels) this.rosters.set(channel, new PresenceRoster(channel));
    this.lastEventId = options.lastEventId;
    this.reconnection = new Reconnection(options);
    void Promise.resolve().then(() => this.open());
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The stream's last `id:`: save it and pass it back as `lastEventId` to resume every channel after it. */
  get cursor(): string | undefined {
    return this.lastEventId;
  }

  /** The members of a channel of a `presence: true` stream. */
  presence(channel: string): PresenceSnapshot | undefined {
    return this.rosters.get(channel)?.snapshot();
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reconnection.cancel();
    this.handle?.close();
    this.handle = undefined;
    this.setState({ state: 'closed' });
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let token: string | undefined;
    try {
      token = await this.reconnection.prepare();
    } catch (err) {
      return this.retry({ message: `getToken failed: ${(err as Error)?.message ?? String(err)}` });
    }
    if (this.stopped) return;
    this.sentCursor = this.lastEventId;
    const request = { url: streamUrl(this.url, this.channels, this.options.presence === true), token, lastEventId: this.lastEventId };
    this.handle = this.options.transport(request, {
      open: () => {
        this.reconnection.attempt = 0;
        this.setState({ state: 'open' });
      },
      message: (type, data, lastEventId) => this.message(type, data, lastEventId),
      retrying: () => this.setState({ state: 'reconnecting', attempt: ++this.reconnection.attempt }),
      end: (failure) => this.ended(failure),
    });
  }

  private message(type: string, data: string, lastEventId: string): void {
    if (this.stopped) return;
    let msg: ServerMessage | { type: 'disconnected'; code?: number };
    try {
      msg = JSON.parse(data) as typeof msg;
    } catch {
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    if (type === 'message' && msg.type === 'event') {
      // The stream's cursor, not the event's own per-channel id (which the data carries).
      if (lastEventId) this.lastEventId = lastEventId;
      this.emit('event', toRelayEvent(msg));
    } else if (type === 'subscribed' && msg.type === 'subscribed') {
      const info: SubscribedInfo = { channel: msg.channel, recovered: msg.recovered !== false, resumed: this.seen.has(msg.channel) };
      if (this.sentCursor !== undefined) info.since = this.sentCursor;
      this.seen.add(msg.channel);
      const sync = this.rosters.get(msg.channel)?.sync(msg.presence);
      if (sync) info.presence = sync.presence;
      this.emit('subscribed', info);
      if (sync) this.emit('presence', sync);
    } else if ((type === 'join' || type === 'leave') && (msg.type === 'join' || msg.type === 'leave')) {
      const roster = this.rosters.get(msg.channel);
      if (roster && typeof msg.user === 'string') this.emit('presence', msg.type === 'join' ? roster.join(msg.user, msg.info) : roster.leave(msg.user));
    } else if (type === 'disconnected') {
      this.handle?.close();
      this.fail({ code: 'disconnected', message: 'Disconnected by the operator (event: disconnected); not reconnecting.', closeCode: CloseCodes.disconnected });
    }
  }

  private ended(failure: SseFailure): void {
    this.handle = undefined;
    if (this.stopped) return;
    const { status } = failure;
    const error = (code: string): RelayErrorInfo => {
      const info: RelayErrorInfo = { code: failure.code ?? code, message: failure.message };
      if (status !== undefined) info.status = status;
      return info;
    };
    if (failure.final) return this.fail(error(status === undefined ? 'unavailable' : `http_${status}`));
    if (status === 401) {
      if (!this.reconnection.canRefreshToken || this.reconnection.tokenIsFresh) return this.fail(error('unauthorized'));
      this.reconnection.refreshToken();
    } else if (status !== undefined && status >= 400 && status < 500 && !RETRYABLE_STATUSES.has(status)) {
      return this.fail(error(`http_${status}`));
    } else if (status === undefined && this.current !== 'open') {
      // EventSource hides the status: a stream that never opened may have had its token refused.
      this.reconnection.refreshToken();
    }
    this.retry(failure);
  }

  private retry(failure: SseFailure): void {
    const { delayMs, attempt } = this.reconnection.schedule(() => void this.open(), failure.retryAfterMs);
    const change: StateChange = { state: 'reconnecting', delayMs, attempt, reason: failure.message };
    if (failure.status !== undefined) change.status = failure.status;
    this.setState(change);
  }

  private fail(error: RelayErrorInfo): void {
    this.stopped = true;
    this.reconnection.cancel();
    this.emit('error', error);
    const change: StateChange = { state: 'closed', error };
    if (error.closeCode !== undefined) change.closeCode = error.closeCode;
    if (error.status !== undefined) change.status = error.status;
    this.setState(change);
  }

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
  }
}
