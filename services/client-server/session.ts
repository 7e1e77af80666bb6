import type { Logger } from 'pino';
import type { Bus } from '../engine/bus.js';
import { CloseCode } from '../protocol/close-codes.js';
import { RelayError } from '../protocol/errors.js';
import type { Config } from '../runtime/config/schema.js';
import type { SubscriberClaims } from './auth/jwt.js';
import type { ClientMetrics } from './client-metrics.js';
import type { Hub } from './hub.js';
import { openSubscription, type OpenedSubscription } from './open-subscription.js';
import type { OutboundEvent } from './outbound-event.js';
import type { SessionsByUser } from './sessions-by-user.js';
import type { PresenceMessage, Sink, Subscription } from './subscription.js';

/**
 * A history replay pauses once the connection holds this much unsent data
 * and goes on when it has drained: a backlog larger than MAX_BUFFERED_BYTES
 * is then sent at the client's pace instead of getting it cut as a slow
 * consumer. A quarter of the limit leaves live events room meanwhile.
 */
const REPLAY_HIGH_WATER_BYTES = 256 * 1024;

/** setTimeout's largest delay (about 24.8 days); a later `exp` is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a transport gives its session: where events are written, how much is still unsent, how it ends. */
export interface SessionSocket {
  readonly transport: 'ws' | 'sse';
  /** Bytes accepted for the peer but not yet sent (the slow-consumer guard reads it on every event). */
  bufferedBytes(): number;
  /** Writes one event in this transport's wire form. */
  writeEvent(event: OutboundEvent): void;
  /** Resolves when everything written so far has left (or the connection closed). */
  drained(): Promise<void>;
  /** Writes a presence join or leave in this transport's wire form. */
  writePresence(message: PresenceMessage): void;
  /** Ends the connection from our side: a WebSocket close frame, the end of an SSE stream. Called at most once. */
  end(code: number, reason: string): void;
  /**
   * Whether the client saw the connection open; absent: from the start (a
   * WebSocket). An SSE stream is established once its 200 went out: a
   * session that ends before is logged as the request it was, not as a
   * connection.
   */
  readonly established?: boolean;
}

/** Who ended a connection, for its close line. */
type ClosedBy = 'server' | 'peer';

export interface SessionDeps {
  config: Pick<Config, 'maxBufferedBytes'>;
  hub: Hub;
  bus: Pick<Bus, 'history' | 'latest' | 'ids'>;
  metrics: ClientMetrics;
  /** Where each closed connection's one info line goes. */
  logger: Logger;
  /** Open sessions per token `sub`, for operator disconnects. */
  users: SessionsByUser;
}

export interface SubscribeOptions {
  since?: string;
  /** Join the channel's presence (the caller checked `authorize`). */
  presence?: boolean;
  /** See SubscribeRequest.baseline (multi-channel SSE). */
  baseline?: boolean;
}

/**
 * The permission check of a subscribe (PROTOCOL.md, Auth and v1.1
 * Presence): a `channels` pattern must match; with presence also a
 * `presence` pattern, and the token must have a `sub`.
 */
export function authorizeSubscribe(claims: SubscriberClaims, channel: string, presence: boolean): void {
  if (!claims.channels.allows(channel)) throw new RelayError('forbidden', undefined, { channel });
  if (!presence) return;
  if (claims.sub === undefined) throw new RelayError('forbidden', 'Presence needs a token with a "sub" (the user id).', { channel });
  if (!claims.presence?.allows(channel)) throw new RelayError('forbidden', 'Your token does not allow presence on this channel.', { channel });
}

/**
 * What one subscriber connection holds, whatever its transport: its
 * subscriptions, the guards every connection has (token expiry, slow
 * consumer), and the one way it ends. `close` (our side) and `closedByPeer`
 * both release everything once: every subscription leaves the hub (and
 * presence), the gauges go down, the expiry timer is cleared.
 */
export class Session implements Sink {
  private readonly subscriptions = new Map<string, Subscription>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private open = true;
  /** This connection's key in presence (unique in this process). */
  private readonly connection: string;
  /** For the close line: when it opened, client messages received, events and presence messages sent. */
  private readonly openedAtMs: number;
  private messagesIn = 0;
  private messagesOut = 0;

  constructor(
    private readonly socket: SessionSocket,
    readonly claims: SubscriberClaims,
    private readonly deps: SessionDeps,
    private readonly nowMs: () => number,
  ) {
    this.connection = deps.hub.connectionId();
    this.openedAtMs = nowMs();
    deps.metrics.connections.inc({ transport: socket.transport });
    if (claims.sub !== undefined) deps.users.add(claims.sub, this);
    // PROTOCOL.md: `exp` is honoured, also on a connection that is already open.
    if (claims.exp !== undefined) this.armExpiry(claims.exp * 1000);
  }

  get isOpen(): boolean {
    return this.open;
  }

  get size(): number {
    return this.subscriptions.size;
  }

  has(channel: string): boolean {
    return this.subscriptions.has(channel);
  }

  /** authorizeSubscribe with this session's claims. */
  authorize(channel: string, presence: boolean): void {
    authorizeSubscribe(this.claims, channel, presence);
  }

  /**
   * Subscribes with resume (open-subscription.ts). Resolves undefined when
   * the session ended meanwhile: nothing stays subscribed then.
   */
  async subscribe(channel: string, options: SubscribeOptions = {}): Promise<OpenedSubscription | undefined> {
    const { sub, info } = this.claims;
    const presence = options.presence && sub !== undefined ? { connection: this.connection, member: { user: sub, info: info ?? {} } } : undefined;
    const opened = await openSubscription(this.deps, { channel, since: options.since, presence, baseline: options.baseline }, this);
    if (!opened) return undefined;
    if (!this.open) {
      opened.subscription.close();
      return undefined;
    }
    this.subscriptions.set(channel, opened.subscription);
    this.deps.metrics.subscriptions.inc();
    return opened;
  }

  unsubscribe(channel: string): void {
    const subscription = this.subscriptions.get(channel);
    if (!subscription) return;
    this.subscriptions.delete(channel);
    subscription.close();
    this.deps.metrics.subscriptions.dec();
  }

  /** The slow-consumer guard, then the transport's write. */
  send(event: OutboundEvent): boolean {
    if (!this.writable()) return false;
    this.socket.writeEvent(event);
    this.messagesOut++;
    return true;
  }

  /** Sink: a replay waits for this when the connection has much unsent (REPLAY_HIGH_WATER_BYTES). */
  congested(): Promise<void> | undefined {
    const highWater = Math.min(REPLAY_HIGH_WATER_BYTES, this.deps.config.maxBufferedBytes / 4);
    return this.open && this.socket.bufferedBytes() > highWater ? this.socket.drained() : undefined;
  }

  /** Sink: live events piled up while a replay waited for the client; it is as slow as one cut by the guard. */
  fallBehind(): void {
    this.cutSlowConsumer();
  }

  sendPresence(message: PresenceMessage): boolean {
    if (!this.writable()) return false;
    this.socket.writePresence(message);
    this.messagesOut++;
    return true;
  }

  /** Counts one message from the client (a WebSocket frame), for the close line. */
  received(): void {
    this.messagesIn++;
  }

  gap(): void {
    this.close(CloseCode.goingAway, 'history lost; resume with since');
  }

  /** PROTOCOL.md v1.1 `POST /v1/users/{user}/disconnect`: closed with 4003. */
  disconnect(): void {
    if (!this.open) return;
    this.deps.metrics.operatorDisconnects.inc({ transport: this.socket.transport });
    this.close(CloseCode.disconnected, 'disconnected by the operator');
  }

  /** Ends the connection from our side with `code`; the client learns why. */
  close(code: number, reason: string): void {
    if (!this.release('server', code, reason)) return;
    this.socket.end(code, reason);
  }

  /** The peer went away (or the socket failed), with its close frame's code and reason if any: release everything, write nothing. */
  closedByPeer(code?: number, reason?: string): void {
    this.release('peer', code, reason);
  }

  private writable(): boolean {
    if (!this.open) return false;
    if (this.socket.bufferedBytes() > this.deps.config.maxBufferedBytes) {
      this.cutSlowConsumer();
      return false;
    }
    return true;
  }

  private cutSlowConsumer(): void {
    if (!this.open) return;
    this.deps.metrics.slowConsumerDisconnects.inc();
    this.close(CloseCode.slowConsumer, 'slow consumer; resume with since');
  }

  /**
   * Releases everything once, and logs the connection's one line at info
   * (it stands for the upgrade or stream request too: request-log.ts).
   */
  private release(by: ClosedBy, code: number | undefined, reason: string | undefined): boolean {
    if (!this.open) return false;
    this.open = false;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.claims.sub !== undefined) this.deps.users.remove(this.claims.sub, this);
    const channels = this.subscriptions.size;
    for (const channel of [...this.subscriptions.keys()]) this.unsubscribe(channel);
    this.deps.metrics.connections.dec({ transport: this.socket.transport });
    if (this.socket.established !== false) {
      this.deps.logger.info(
        {
          transport: this.socket.transport,
          by,
          code,
          reason: reason || undefined,
          durationMs: this.nowMs() - this.openedAtMs,
          subject: this.claims.sub,
          channels,
          messagesIn: this.messagesIn,
          messagesOut: this.messagesOut,
        },
        'connection closed',
      );
    }
    return true;
  }

  private armExpiry(expiresAtMs: number): void {
    const delay = Math.max(0, expiresAtMs - this.nowMs());
    this.expiryTimer = setTimeout(() => {
      if (delay > MAX_TIMER_MS) this.armExpiry(expiresAtMs);
      else this.close(CloseCode.unauthorized, 'token expired');
    }, Math.min(delay, MAX_TIMER_MS)).unref();
  }
}
