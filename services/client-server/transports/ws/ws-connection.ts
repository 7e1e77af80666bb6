import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import { parseClientMessage, PONG_MESSAGE, errorMessage, subscribedMessage, unsubscribedMessage } from '../../../protocol/client-messages.js';
import { RelayError, isRelayError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { Metrics } from '../../../runtime/metrics.js';
import type { SubscriberClaims } from '../../auth/jwt.js';
import type { Connection } from '../../connections.js';
import { inboundMessageLimit } from '../../limits/inbound-limit.js';
import type { OutboundEvent } from '../../outbound-event.js';
import { Session, type SessionDeps, type SessionSocket } from '../../session.js';
import { framePayload, rawSocketOf, wsFrameOf } from './ws-frame.js';
import type { WriteBatcher } from './write-batcher.js';

export interface WsConnectionDeps extends SessionDeps {
  config: SessionDeps['config'] & Pick<Config, 'maxSubscriptionsPerConnection' | 'maxClientMessagesPerSecond' | 'clientMessagesBurst'>;
  logger: Logger;
  metrics: Metrics;
  /** This app's WebSocket writes, coalesced per socket per event-loop turn. */
  writes: WriteBatcher;
  now: () => number;
}

/** Heartbeats without a pong after which the peer is taken for gone (it never sent a close frame). */
const MISSED_PONGS_ALLOWED = 2;
/** A peer that never answers our close frame must not hold the drain: the socket is destroyed after this. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;

const TEXT = { binary: false } as const;
/** WebSocket.OPEN, without importing ws's runtime here. */
const OPEN = 1;

const CONNECTION = Symbol('eventrelay.wsConnection');
type OwnedSocket = WebSocket & { [CONNECTION]: WsConnection };

function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as OwnedSocket)[CONNECTION].onMessage(data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  (this as OwnedSocket)[CONNECTION].onPong();
}
function onSocketClose(this: WebSocket): void {
  (this as OwnedSocket)[CONNECTION].onClose();
}
function onSocketError(this: WebSocket, err: Error): void {
  (this as OwnedSocket)[CONNECTION].onError(err);
}

/** One subscriber WebSocket: the protocol's messages over a Session, plus ping/pong. */
export class WsConnection implements Connection, SessionSocket {
  readonly transport = 'ws' as const;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly session: Session;
  /** Channels whose subscribe is still reading history, mapped to its completion: a second subscribe is a duplicate too. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Heartbeats sent since the last pong. */
  private missedPongs = 0;
  /** Whether one more client message fits MAX_CLIENT_MESSAGES_PER_SECOND (subscribe floods). */
  private readonly admitMessage: () => boolean;

  constructor(
    private readonly socket: WebSocket,
    private readonly claims: SubscriberClaims,
    private readonly deps: WsConnectionDeps,
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
    this.session = new Session(this, claims, deps, deps.now);
  }

  // --- SessionSocket: how the session writes and ends -----------------------

  bufferedBytes(): number {
    // Reads the socket's write queue length: no syscall.
    return this.socket.bufferedAmount;
  }

  writeEvent(event: OutboundEvent): void {
    const raw = this.socket.readyState === OPEN ? rawSocketOf(this.socket) : undefined;
    if (raw) {
      // Safe beside ws's own writes: with perMessageDeflate off its Sender writes every frame
      // synchronously and in call order, so whole frames written here never interleave with its frames.
      this.deps.writes.write(raw, wsFrameOf(event));
    } else {
      this.socket.send(framePayload(wsFrameOf(event)), TEXT);
      this.deps.writes.count();
    }
  }

  end(code: number, reason: string): void {
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS).unref();
  }

  // --- Connection: heartbeat and drain ----------------------------------------

  heartbeat(): void {
    if (!this.session.isOpen) return;
    if (this.missedPongs >= MISSED_PONGS_ALLOWED) {
      this.socket.terminate();
      return;
    }
    this.missedPongs++;
    this.socket.ping();
  }

  goAway(): void {
    this.session.close(CloseCode.goingAway, 'server going away; reconnect and resume with since');
  }

  // --- socket events (through the shared listeners above) --------------------

  /** @internal */
  onPong(): void {
    this.missedPongs = 0;
  }

  /** @internal */
  onClose(): void {
    this.session.closedByPeer();
    this.resolveClosed();
  }

  /** @internal */
  onError(err: Error): void {
    this.deps.logger.debug({ err }, 'websocket error');
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.session.isOpen) return;
    if (!this.admitMessage()) {
      this.deps.metrics.errors.inc({ code: 'rate_limited' });
      this.session.close(CloseCode.rateLimited, 'too many messages; slow down');
      return;
    }
    try {
      if (isBinary) throw new RelayError('invalid_json', 'Frames are JSON text; binary frames are not accepted.');
      const message = parseClientMessage(data.toString('utf8'), this.deps.bus.ids);
      if (message.type === 'ping') this.reply(PONG_MESSAGE);
      else if (message.type === 'subscribe') this.subscribe(message.channel, message.since);
      else this.unsubscribe(message.channel);
    } catch (err) {
      this.replyError(err);
    }
  }

  // --- protocol ----------------------------------------------------------------

  /** PROTOCOL.md order after parsing: permission, duplicate, then the per-connection limit. */
  private subscribe(channel: string, since: string | undefined): void {
    const { maxSubscriptionsPerConnection } = this.deps.config;
    if (!this.claims.channels.allows(channel)) throw new RelayError('forbidden', undefined, { channel });
    if (this.session.has(channel) || this.pending.has(channel)) throw new RelayError('already_subscribed', undefined, { channel });
    if (this.session.size + this.pending.size >= maxSubscriptionsPerConnection) {
      throw new RelayError('invalid_request', `A connection may hold at most ${maxSubscriptionsPerConnection} subscriptions.`, { channel });
    }
    // `finally` runs after this synchronous `set`, whatever the subscribe does, and before
    // any unsubscribe chained on the pending promise (see unsubscribe).
    const opening: Promise<void> = this.open(channel, since).finally(() => {
      if (this.pending.get(channel) === opening) this.pending.delete(channel);
    });
    this.pending.set(channel, opening);
  }

  private async open(channel: string, since: string | undefined): Promise<void> {
    try {
      const opened = await this.session.subscribe(channel, since);
      if (!opened) return;
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
    this.session.unsubscribe(channel);
    // Unsubscribing from a channel one does not have is harmless and answered the same way.
    this.reply(unsubscribedMessage(channel));
  }

  private reply(text: string): void {
    if (this.session.isOpen) this.socket.send(text, TEXT);
  }

  private replyError(err: unknown): void {
    const relayError = isRelayError(err) ? err : new RelayError('internal');
    if (!isRelayError(err)) this.deps.logger.error({ err }, 'unexpected error handling a client frame');
    this.deps.metrics.errors.inc({ code: relayError.code });
    this.reply(errorMessage(relayError));
  }
}
