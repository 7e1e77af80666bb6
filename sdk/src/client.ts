import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { defaultSocketFactory, OPEN, type SocketFactory, type SocketLike } from './transport.js';
import {
  CloseCodes,
  type ConnectionState,
  type RelayErrorInfo,
  type RelayEvent,
  type ServerMessage,
  type StateChange,
  type SubscribedInfo,
} from './types.js';

/** PROTOCOL.md channel names; checked here so that a typo fails at the call, not in a server reply. */
const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:]{1,128}$/;
/** Most proxies drop a connection idle for 60 s; the server pings every 25 s, so 30 s of silence is suspicious. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** How long a ping may go unanswered before the connection is declared dead and replaced. */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  /** A subscriber JWT, sent as `?token=`. Omit when the server runs with AUTH_DISABLED. */
  token?: string;
  /**
   * Fetches a fresh token: called before the first connection, after the
   * server closes with 4001 (expired or rejected token), and before a retry
   * that failed before opening (a browser cannot see an HTTP 401 at upgrade).
   */
  getToken?: () => string | Promise<string>;
  /** Reconnect timing; defaults: base 500 ms, max 30 s, full jitter. */
  backoff?: BackoffOptions;
  /** Send `{"type":"ping"}` after this much silence; 0 turns the check off. Default 30000. */
  pingIntervalMs?: number;
  /** Reconnect when nothing arrives this long after a ping. Default 10000. */
  pongTimeoutMs?: number;
  /** Opens the WebSocket; default: the global `WebSocket`, else `ws`. Injected by tests. */
  socketFactory?: SocketFactory;
}

export interface SubscribeOptions {
  /** Resume after this event id: every held event after it is delivered first, then live ones. */
  since?: string;
  /** Called on every `subscribed` reply, including after each reconnect; check `recovered`. */
  onSubscribed?: (info: SubscribedInfo) => void;
  /** Called when the server refuses the subscription (`forbidden`, `invalid_channel`, ...); it is then dropped. */
  onError?: (error: RelayErrorInfo) => void;
}

export type ClientEvents = {
  state: (change: StateChange) => void;
  subscribed: (info: SubscribedInfo) => void;
  error: (error: RelayErrorInfo) => void;
};

/** A local misuse of the client (bad channel name, duplicate subscribe, closed client). */
export class EventRelayError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventRelayError';
  }
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
}

/** Codes with which the server refuses a subscribe for good; retrying cannot help. */
const FATAL_SUBSCRIBE_CODES = new Set(['forbidden', 'invalid_channel', 'invalid_request']);

export class EventRelayClient extends Emitter<ClientEvents> {
  private readonly subs = new Map<string, Subscription>();
  private socket?: SocketLike;
  private current: ConnectionState = 'connecting';
  private attempt = 0;
  private token?: string;
  private needFreshToken: boolean;
  private stopped = false;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private pongTimer?: ReturnType<typeof setTimeout>;
  private lastMessageAt = 0;
  private readonly factory: SocketFactory;

  constructor(
    private readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    super();
    this.token = options.token;
    this.needFreshToken = options.getToken !== undefined && options.token === undefined;
    this.factory = options.socketFactory ?? defaultSocketFactory;
    // Deferred so that listeners attached right after connect() see every change.
    void Promise.resolve().then(() => this.open());
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Channels subscribed (or being subscribed) and the id each would resume after. */
  get positions(): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const sub of this.subs.values()) out[sub.channel] = sub.lastId;
    return out;
  }

  /**
   * Subscribes to `channel`; `onEvent` gets every event in id order, each
   * once, across reconnects. Returns the function that unsubscribes.
   */
  subscribe<T = unknown>(channel: string, onEvent: (event: RelayEvent<T>) => void, options: SubscribeOptions = {}): () => void {
    if (this.stopped) throw new EventRelayError('closed', 'This client is closed; connect again.');
    if (!CHANNEL_PATTERN.test(channel)) {
      throw new EventRelayError('invalid_channel', `"${channel}" is not a channel name (1-128 of A-Z a-z 0-9 _ - . :).`);
    }
    if (this.subs.has(channel)) {
      throw new EventRelayError('already_subscribed', `Already subscribed to "${channel}"; unsubscribe first.`);
    }
    const sub: Subscription = {
      channel,
      onEvent: onEvent as (event: RelayEvent<never>) => void,
      options,
      lastId: options.since,
      everSubscribed: false,
      live: false,
    };
    this.subs.set(channel, sub);
    if (this.socket?.readyState === OPEN) this.sendSubscribe(sub);
    return () => {
      if (this.subs.get(channel) !== sub) return;
      this.subs.delete(channel);
      this.send({ type: 'unsubscribe', channel });
    };
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'client closed');
    }
    this.setState({ state: 'closed' });
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    if (this.options.getToken && this.needFreshToken) {
      try {
        this.token = await this.options.getToken();
        this.needFreshToken = false;
      } catch (err) {
        this.emit('error', { code: 'unauthorized', message: `getToken failed: ${(err as Error)?.message ?? String(err)}` });
        return this.scheduleReconnect(undefined);
      }
    }
    let socket: SocketLike;
    try {
      socket = await this.factory(socketUrl(this.url, this.token));
    } catch (err) {
      this.emit('error', { code: 'unavailable', message: `cannot open a WebSocket: ${(err as Error)?.message ?? String(err)}` });
      return this.scheduleReconnect(undefined);
    }
    if (this.stopped) return socket.close(1000, 'client closed');
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.lastMessageAt = Date.now();
      this.setState({ state: 'open' });
      if (this.subs.size === 0) this.attempt = 0;
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
      this.startPing(socket);
    };
    socket.onmessage = (ev) => {
      this.lastMessageAt = Date.now();
      // A server that answers is healthy: the next loss starts from the shortest backoff again.
      this.attempt = 0;
      if (typeof ev.data === 'string') this.handle(ev.data);
      else if (ev.data != null) this.handle(String(ev.data));
    };
    socket.onerror = () => {
      // Always followed by onclose, which decides what to do.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.lost(ev.code, opened);
    };
  }

  private lost(code: number, opened: boolean): void {
    this.socket = undefined;
    this.clearTimers();
    for (const sub of this.subs.values()) sub.live = false;
    if (this.stopped) return;
    switch (code) {
      case CloseCodes.policyViolation:
        return this.fail({ code: 'forbidden', message: 'The server refused this connection (policy violation); not reconnecting.', closeCode: code });
      case CloseCodes.tooBig:
        return this.fail({ code: 'payload_too_large', message: 'The server closed the connection: a frame was too big.', closeCode: code });
      case CloseCodes.unauthorized:
        if (!this.options.getToken) {
          return this.fail({ code: 'unauthorized', message: 'The token was rejected or expired; pass getToken to refresh it.', closeCode: code });
        }
        this.needFreshToken = true;
        return this.scheduleReconnect(code);
      default:
        // 1001 (drain), 4008 (slow consumer), 4029, 1006 (network): reconnect and resume.
        if (!opened && this.options.getToken) this.needFreshToken = true;
        return this.scheduleReconnect(code);
    }
  }

  private scheduleReconnect(closeCode: number | undefined): void {
    if (this.stopped) return;
    const delayMs = backoffDelay(this.attempt, this.options.backoff);
    this.attempt++;
    this.setState({ state: 'reconnecting', closeCode, delayMs, attempt: this.attempt });
    // Not unref'd: a Node process tailing a channel should wait for the server to come back.
    this.retryTimer = setTimeout(() => void this.open(), delayMs);
  }

  private fail(error: RelayErrorInfo): void {
    this.stopped = true;
    this.emit('error', error);
    this.setState({ state: 'closed', closeCode: error.closeCode, error });
  }

  private handle(text: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'event': {
        const sub = this.subs.get(msg.channel);
        // Events still in flight after a local unsubscribe are dropped.
        if (!sub) return;
        sub.lastId = msg.id;
        sub.onEvent({ channel: msg.channel, id: msg.id, data: msg.data as never, ts: msg.ts });
        return;
      }
      case 'subscribed': {
        const sub = this.subs.get(msg.channel);
        if (!sub) return;
        const info: SubscribedInfo = { channel: msg.channel, recovered: msg.recovered !== false, resumed: sub.everSubscribed };
        if (sub.sentSince !== undefined) info.since = sub.sentSince;
        sub.everSubscribed = true;
        sub.live = true;
        sub.options.onSubscribed?.(info);
        this.emit('subscribed', info);
        return;
      }
      case 'error': {
        const info: RelayErrorInfo = { code: msg.code, message: msg.message };
        if (msg.channel !== undefined) info.channel = msg.channel;
        const sub = msg.channel === undefined ? undefined : this.subs.get(msg.channel);
        if (sub && !sub.live && FATAL_SUBSCRIBE_CODES.has(msg.code)) {
          this.subs.delete(sub.channel);
          sub.options.onError?.(info);
        }
        this.emit('error', info);
        return;
      }
      default:
        return;
    }
  }

  private sendSubscribe(sub: Subscription): void {
    sub.sentSince = sub.lastId;
    this.send(sub.lastId === undefined ? { type: 'subscribe', channel: sub.channel } : { type: 'subscribe', channel: sub.channel, since: sub.lastId });
  }

  private send(message: object): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private startPing(socket: SocketLike): void {
    const interval = this.options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (interval <= 0) return;
    const timeout = this.options.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS;
    this.pingTimer = unref(
      setInterval(() => {
        if (Date.now() - this.lastMessageAt < interval || this.pongTimer) return;
        const sentAt = Date.now();
        this.send({ type: 'ping' });
        this.pongTimer = unref(
          setTimeout(() => {
            this.pongTimer = undefined;
            if (this.lastMessageAt >= sentAt || this.socket !== socket) return;
            // A dead TCP connection may take minutes to report its close: replace it now.
            socket.onclose = null;
            socket.close();
            this.lost(1006, true);
          }, timeout),
        );
      }, interval),
    );
  }

  private clearTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
  }
}

/** `http(s)://host[:port]` or a full `ws(s)://.../v1/ws` URL, plus `?token=`. */
export function socketUrl(base: string, token: string | undefined): string {
  const url = new URL(base, (globalThis as { location?: { href: string } }).location?.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/ws';
  if (token !== undefined) url.searchParams.set('token', token);
  return url.toString();
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
