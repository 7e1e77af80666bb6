import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { EventRelayError } from './errors.js';
import { DEFAULT_PING_INTERVAL_MS, DEFAULT_PONG_TIMEOUT_MS, Heartbeat } from './heartbeat.js';
import { PendingPublishes, type PublishOptions } from './pending-publishes.js';
import { Reconnection } from './reconnection.js';
import { Subscriptions, type SubscribeOptions } from './subscriptions.js';
import { globalSocketFactory, OPEN, type SocketCloseInfo, type SocketFactory, type SocketLike } from './transport.js';
import {
  CloseCodes,
  type ConnectionState,
  type PresenceChange,
  type PresenceSnapshot,
  type PublishedInfo,
  type RelayErrorInfo,
  type RelayEvent,
  type ServerMessage,
  type StateChange,
  type SubscribedInfo,
} from './types.js';
import { socketUrl } from './url.js';

export interface ConnectOptions {
  /** A subscriber JWT, sent as `?token=`. Omit when the server runs with AUTH_DISABLED. */
  token?: string;
  /**
   * Fetches a fresh token: called before the first connection, after the
   * server closes with 4001 (expired or rejected token), and before a retry
   * that failed before opening (a browser cannot see an HTTP 401 at upgrade).
   * A freshly fetched token that the server refuses too stops the client.
   */
  getToken?: () => string | Promise<string>;
  /** Reconnect timing; defaults: base 500 ms, max 30 s, full jitter. */
  backoff?: BackoffOptions;
  /** Send `{"type":"ping"}` after this much silence; 0 turns the check off. Default 30000. */
  pingIntervalMs?: number;
  /** Reconnect when nothing arrives this long after a ping. Default 10000. */
  pongTimeoutMs?: number;
  /** Opens the WebSocket; default: the runtime's WebSocket (the Node entry adds `ws` for Node 20). */
  socketFactory?: SocketFactory;
}

export type ClientEvents = {
  state: (change: StateChange) => void;
  subscribed: (info: SubscribedInfo) => void;
  presence: (change: PresenceChange) => void;
  error: (error: RelayErrorInfo) => void;
};

/**
 * 4xx refusals of the upgrade that are not final: 401 is a token problem
 * (handled as close 4001), 408 and 429 pass. Other 4xx are final; 5xx (a
 * draining or restarting server) are retried.
 */
const RETRYABLE_STATUSES = new Set([401, 408, 429]);

export class EventRelayClient extends Emitter<ClientEvents> {
  private readonly subs = new Subscriptions({
    subscribed: (info) => this.emit('subscribed', info),
    presence: (change) => this.emit('presence', change),
    error: (error) => this.emit('error', error),
    retry: (_channel, attempt, frame) => {
      const socket = this.socket;
      const timer = setTimeout(() => {
        const text = frame();
        // A reconnect meanwhile resends every subscribe itself.
        if (text !== undefined && this.socket === socket) this.send(text);
      }, backoffDelay(attempt, this.options.backoff));
      (timer as { unref?: () => void }).unref?.();
    },
  });
  private readonly publishes = new PendingPublishes();
  private readonly heartbeat: Heartbeat;
  private readonly factory: SocketFactory;
  private socket?: SocketLike;
  private current: ConnectionState = 'connecting';
  private readonly retry: Reconnection;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    super();
    this.retry = new Reconnection(options);
    this.factory = options.socketFactory ?? globalSocketFactory;
    this.heartbeat = new Heartbeat(options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS, options.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS);
    // Deferred so that listeners attached right after connect() see every change.
    void Promise.resolve().then(() => this.open());
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Channels subscribed (or being subscribed) and the id each would resume after. */
  get positions(): Record<string, string | undefined> {
    return this.subs.positions();
  }

  /** The members of a channel subscribed with `presence: true`, as last synced and updated. */
  presence(channel: string): PresenceSnapshot | undefined {
    return this.subs.presence(channel);
  }

  /**
   * Subscribes to `channel`; `onEvent` gets every event in id order, each
   * once, across reconnects. Returns the function that unsubscribes.
   */
  subscribe<T = unknown>(channel: string, onEvent: (event: RelayEvent<T>) => void, options: SubscribeOptions = {}): () => void {
    if (this.stopped) throw new EventRelayError('closed', 'This client is closed; connect again.');
    const { frame, remove } = this.subs.add(channel, onEvent as (event: RelayEvent<never>) => void, options);
    this.send(frame);
    return () => {
      const unsubscribe = remove();
      if (unsubscribe) this.send(unsubscribe);
    };
  }

  /**
   * Publishes `data` to `channel` over this connection (PROTOCOL.md v1.1,
   * the token needs a matching `publish` pattern). Resolves with the stored
   * event's id; rejects with an EventRelayError carrying the server's code
   * (`forbidden`, `payload_too_large`, `rate_limited`, ...). Sent once the
   * connection is open; the connection need not be subscribed.
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishedInfo> {
    if (this.stopped) throw new EventRelayError('closed', 'This client is closed; connect again.', { channel });
    const { entry, promise } = this.publishes.add(channel, data, options);
    if (this.socket?.readyState === OPEN) {
      entry.sent = true;
      this.socket.send(entry.frame);
    }
    return promise;
  }

  /** Closes the connection and stops reconnecting; publishes still waiting are rejected with `closed`. */
  close(): void {
    if (this.stopped) return;
    this.stop({ code: 'closed', message: 'The client was closed before the server answered.' });
    this.setState({ state: 'closed' });
  }

  private stop(error: RelayErrorInfo): void {
    this.stopped = true;
    this.heartbeat.stop();
    this.retry.cancel();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'client closed');
    }
    this.publishes.rejectAll(error);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let token: string | undefined;
    try {
      token = await this.retry.prepare();
    } catch (err) {
      const message = `getToken failed: ${(err as Error)?.message ?? String(err)}`;
      this.emit('error', { code: 'unauthorized', message });
      return this.scheduleReconnect({ reason: message });
    }
    if (this.stopped) return;
    let socket: SocketLike;
    try {
      socket = await this.factory(socketUrl(this.url, token));
    } catch (err) {
      if (err instanceof EventRelayError) return this.fail({ code: err.code, message: err.message });
      return this.scheduleReconnect({ reason: `cannot open a WebSocket: ${(err as Error)?.message ?? String(err)}` });
    }
    if (this.stopped) return socket.close(1000, 'client closed');
    this.socket = socket;
    let opened = false;
    // A server may accept the upgrade and close at once with 4001 (PROTOCOL.md; eventrelay does for
    // browsers, which cannot read a 401 at the upgrade): a token is known good only once something arrived.
    let answered = false;
    socket.onopen = () => {
      opened = true;
      this.setState({ state: 'open' });
      if (this.subs.size === 0) this.retry.attempt = 0;
      for (const frame of this.subs.frames()) socket.send(frame);
      for (const entry of this.publishes.unsent()) {
        entry.sent = true;
        socket.send(entry.frame);
      }
      this.heartbeat.start(socket, () => {
        if (this.socket !== socket) return;
        socket.onclose = null;
        socket.close();
        this.lost({ code: 1006, reason: 'no answer to a ping' }, true, answered);
      });
    };
    socket.onmessage = (ev) => {
      answered = true;
      this.heartbeat.touch();
      // A server that answers is healthy: the next loss starts from the shortest backoff again.
      this.retry.attempt = 0;
      if (typeof ev.data === 'string') this.handle(ev.data);
    };
    socket.onerror = () => {
      // Always followed by onclose, which decides what to do.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.lost(ev, opened, answered);
    };
  }

  private lost(ev: SocketCloseInfo, opened: boolean, answered: boolean): void {
    this.socket = undefined;
    this.heartbeat.stop();
    this.subs.disconnected();
    this.publishes.connectionLost();
    if (this.stopped) return;
    const { code, reason, status } = ev;
    const closed = (errorCode: string, fallback: string): void => {
      const error: RelayErrorInfo = { code: errorCode, message: reason || fallback, closeCode: code };
      if (status !== undefined) error.status = status;
      this.fail(error);
    };
    if (status !== undefined && status >= 400 && status < 500 && status !== 403 && !RETRYABLE_STATUSES.has(status)) {
      // 404 (a wrong address or path prefix), 400, 426...: the same request will get the same answer.
      return closed(ev.errorCode ?? `http_${status}`, `The server refused the WebSocket upgrade with HTTP ${status}.`);
    }
    switch (code) {
      case CloseCodes.policyViolation:
        return closed(ev.errorCode ?? 'forbidden', 'The server refused this connection (close 1008, policy violation).');
      case CloseCodes.tooBig:
        return closed('payload_too_large', 'The server closed the connection: a frame was too big (close 1009).');
      case CloseCodes.disconnected:
        return closed('disconnected', 'Disconnected by the operator (close 4003); not reconnecting.');
      case CloseCodes.unauthorized:
        // A token getToken just returned, refused before the server said anything: a fresh one would be refused too.
        if (!this.retry.canRefreshToken || (this.retry.tokenIsFresh && !answered)) return closed('unauthorized', 'The server rejected the token (close 4001).');
        this.retry.refreshToken();
        return this.scheduleReconnect(ev);
      default:
        // 1001 (drain), 4008 (slow consumer), 4029, 1006 (network): reconnect and resume.
        // A browser cannot see a 401 at the upgrade: a connection that never opened may have had its token refused.
        if (!opened) this.retry.refreshToken();
        return this.scheduleReconnect(ev);
    }
  }

  private scheduleReconnect(ev: Partial<SocketCloseInfo>): void {
    if (this.stopped) return;
    const { delayMs, attempt } = this.retry.schedule(() => void this.open());
    const change: StateChange = { state: 'reconnecting', delayMs, attempt };
    if (ev.code !== undefined) change.closeCode = ev.code;
    if (ev.reason) change.reason = ev.reason;
    if (ev.status !== undefined) change.status = ev.status;
    this.setState(change);
  }

  private fail(error: RelayErrorInfo): void {
    this.stop(error);
    this.emit('error', error);
    const change: StateChange = { state: 'closed', error };
    if (error.closeCode !== undefined) change.closeCode = error.closeCode;
    if (error.status !== undefined) change.status = error.status;
    this.setState(change);
  }

  private handle(text: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    if (msg === null || typeof msg !== 'object') return;
    if (msg.type === 'published') {
      this.publishes.published(msg);
      return;
    }
    // An error with a ref answers a publish: its promise reports it, and the channel's subscription is untouched.
    if (msg.type === 'error' && typeof msg.ref === 'string' && this.publishes.refused(msg.ref, { code: msg.code, message: msg.message, channel: msg.channel })) return;
    this.subs.handle(msg);
  }

  /** Sends when open; otherwise the next open sends every subscription anyway. */
  private send(frame: string | (() => string)): void {
    if (this.socket?.readyState === OPEN) this.socket.send(typeof frame === 'string' ? frame : frame());
  }

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
  }
}
