import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { SubscriberClaims } from '../common/auth/jwt.js';
import type { Bus, BusEvent } from '../common/bus/bus.js';
import type { Config } from '../common/config.js';
import { RelayError, isRelayError } from '../common/errors.js';
import type { Metrics } from '../common/metrics.js';
import { inboundMessageLimit } from '../common/rate-limit/inbound-limit.js';
import { CloseCode, PONG_MESSAGE, errorMessage, parseClientMessage, subscribedMessage, unsubscribedMessage } from '../common/protocol.js';
import type { Connection } from './connections.js';
import type { Hub } from './hub.js';
import { openSubscription } from './open-subscription.js';
import type { Sink, Subscription } from './subscription.js';
import { rawSocketOf, wsFrameOf } from './ws-frame.js';

export interface WsConnectionDeps {
  config: Config;
  logger: Logger;
  bus: Bus;
  hub: Hub;
  metrics: Metrics;
}

const TEXT = { binary: false } as const;
/** WebSocket.OPEN, without importing ws's runtime here. */
const OPEN = 1;

const CONNECTION = Symbol('eventrelay.wsConnection');
type OwnedSocket = WebSocket & { [CONNECTION]: WsConnection };

function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as OwnedSocket)[CONNECTION].onMessage(data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as OwnedSocket)[CONNECTION].onSocketEvent('pong');
}
function onSocketClose(this: WebSocket): void {
  (this as OwnedSocket)[CONNECTION].onSocketEvent('close');
}
function onSocketError(this: WebSocket, err: Error): void {
  (this as OwnedSocket)[CONNECTION].onSocketEvent('error', err);
}

/** One subscriber WebSocket: its protocol messages, subscriptions and limits. */
export class WsConnection implements Connection, Sink {
  readonly transport = 'ws' as const;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Channels whose subscribe is still reading history: a second subscribe is a duplicate too. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Heartbeats sent since the last pong; two unanswered ones mean the peer is gone. */
  private missedPongs = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  private open = true;
  /** Whether one more client message fits MAX_CLIENT_MESSAGES_PER_SECOND (subscribe floods). */
  private readonly admitMessage: () => boolean;

  constructor(
    private readonly socket: WebSocket,
    private readonly claims: SubscriberClaims,
    private readonly deps: WsConnectionDeps,
    nowMs: number,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.admitMessage = inboundMessageLimit(deps.config);
    // Shared listener functions find their connection through the socket, instead of four
    // closures per connection: an idle connection's memory is what 10,000 of them cost.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    if (claims.exp !== undefined) {
      // PROTOCOL.md: `exp` is honoured, also on a connection that is already open.
      const delay = Math.max(0, claims.exp * 1000 - nowMs);
      this.expiryTimer = setTimeout(() => this.close(CloseCode.unauthorized, 'token expired'), Math.min(delay, 2 ** 31 - 1)).unref();
    }
    deps.metrics.connections.inc({ transport: 'ws' });
  }

  send(event: BusEvent): boolean {
    if (!this.open) return false;
    // bufferedAmount reads the socket's write queue length: no syscall.
    if (this.socket.bufferedAmount > this.deps.config.maxBufferedBytes) {
      this.deps.metrics.slowConsumerDisconnects.inc();
      this.close(CloseCode.slowConsumer, 'slow consumer; resume with since');
      return false;
    }
    const raw = this.socket.readyState === OPEN ? rawSocketOf(this.socket) : undefined;
    if (raw) {
      // Safe beside ws's own writes: with perMessageDeflate off its Sender writes every frame
      // synchronously and in call order, so whole frames written here never interleave with its frames.
      this.deps.hub.wsWrites.write(raw, wsFrameOf(event));
    } else {
      this.socket.send(event.frame, TEXT);
      this.deps.hub.wsWrites.count();
    }
    return true;
  }

  gap(): void {
    this.close(CloseCode.goingAway, 'history lost; resume with since');
  }

  heartbeat(): void {
    if (!this.open) return;
    if (this.missedPongs >= 2) {
      // Two heartbeats without a pong: the peer is gone without a close frame.
      this.socket.terminate();
      return;
    }
    this.missedPongs++;
    this.socket.ping();
  }

  goAway(): void {
    this.close(CloseCode.goingAway, 'server going away; reconnect and resume with since');
  }

  private close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.socket.close(code, reason);
    // A peer that never answers the close handshake must not hold the drain.
    setTimeout(() => this.socket.terminate(), 5000).unref();
    this.cleanup();
  }

  /** @internal Called by the shared socket listeners below. */
  onSocketEvent(event: 'pong' | 'close' | 'error', err?: Error): void {
    if (event === 'pong') this.missedPongs = 0;
    else if (event === 'close') {
      this.cleanup();
      this.resolveClosed();
    } else this.deps.logger.debug({ err }, 'websocket error');
  }

  /** @internal Called by the shared socket listener below. */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.open) return;
    if (!this.admitMessage()) {
      this.deps.metrics.errors.inc({ code: 'rate_limited' });
      this.close(CloseCode.rateLimited, 'too many messages; slow down');
      return;
    }
    try {
      if (isBinary) throw new RelayError('invalid_json', 'Frames are JSON text; binary frames are not accepted.');
      const message = parseClientMessage(data.toString('utf8'));
      if (message.type === 'ping') this.reply(PONG_MESSAGE);
      else if (message.type === 'subscribe') this.subscribe(message.channel, message.since);
      else this.unsubscribe(message.channel);
    } catch (err) {
      this.replyError(err);
    }
  }

  private subscribe(channel: string, since: string | undefined): void {
    const done = this.trySubscribe(channel, since);
    if (this.pending.has(channel)) this.pending.set(channel, done);
  }

  private async trySubscribe(channel: string, since: string | undefined): Promise<void> {
    try {
      if (!this.claims.channels.allows(channel)) {
        throw new RelayError('forbidden', 'Your token does not allow this channel.', { channel });
      }
      if (this.subscriptions.has(channel) || this.pending.has(channel)) {
        throw new RelayError('already_subscribed', 'This connection is already subscribed to the channel.', { channel });
      }
      if (this.subscriptions.size + this.pending.size >= this.deps.config.maxSubscriptionsPerConnection) {
        throw new RelayError('invalid_request', `A connection may hold at most ${this.deps.config.maxSubscriptionsPerConnection} subscriptions.`, { channel });
      }
      this.pending.set(channel, Promise.resolve());
      let opened;
      try {
        opened = await openSubscription(this.deps, channel, since, this);
      } finally {
        this.pending.delete(channel);
      }
      if (!this.open) {
        opened.subscription.closed = true;
        this.deps.hub.leave(opened.subscription);
        return;
      }
      this.subscriptions.set(channel, opened.subscription);
      this.deps.metrics.subscriptions.inc();
      this.reply(subscribedMessage(channel, opened.recovered));
      opened.start();
    } catch (err) {
      this.replyError(err);
    }
  }

  private unsubscribe(channel: string): void {
    const pending = this.pending.get(channel);
    if (pending) {
      // The subscribe is still reading history: answer in the order the client asked.
      void pending.then(() => this.unsubscribe(channel));
      return;
    }
    const subscription = this.subscriptions.get(channel);
    if (subscription) this.drop(subscription);
    // Unsubscribing from a channel one does not have is harmless and answered the same way.
    this.reply(unsubscribedMessage(channel));
  }

  private drop(subscription: Subscription): void {
    subscription.closed = true;
    this.subscriptions.delete(subscription.channel);
    this.deps.hub.leave(subscription);
    this.deps.metrics.subscriptions.dec();
  }

  private reply(text: string): void {
    if (this.open) this.socket.send(text, TEXT);
  }

  private replyError(err: unknown): void {
    const relayError = isRelayError(err) ? err : new RelayError('internal', 'Internal error.');
    if (!isRelayError(err)) this.deps.logger.error({ err }, 'unexpected error handling a client frame');
    this.deps.metrics.errors.inc({ code: relayError.code });
    this.reply(errorMessage(relayError));
  }

  /** Whether this connection is still counted in the connections gauge (cleanup runs more than once). */
  private counted = true;

  private cleanup(): void {
    this.open = false;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const subscription of [...this.subscriptions.values()]) this.drop(subscription);
    if (this.counted) {
      this.counted = false;
      this.deps.metrics.connections.dec({ transport: 'ws' });
    }
  }
}
