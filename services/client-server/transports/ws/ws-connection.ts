import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import { errorMessage } from '../../../protocol/client-messages.js';
import { RelayError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { ClientMetrics } from '../../client-metrics.js';
import type { SubscriberClaims } from '../../auth/jwt.js';
import type { Connection } from '../../connections.js';
import { inboundMessageLimit } from '../../limits/inbound-limit.js';
import type { OutboundEvent } from '../../outbound-event.js';
import { Session, type SessionDeps, type SessionSocket } from '../../session.js';
import type { PresenceMessage } from '../../subscription.js';
import { framePayload, rawSocketOf, wsFrameOf } from './ws-frame.js';
import { WsMessages, type WsMessagesDeps } from './ws-messages.js';
import type { WriteBatcher } from './write-batcher.js';

export interface WsConnectionDeps extends SessionDeps, WsMessagesDeps {
  config: SessionDeps['config'] & WsMessagesDeps['config'] & Pick<Config, 'maxClientMessagesPerSecond' | 'clientMessagesBurst'>;
  bus: SessionDeps['bus'] & WsMessagesDeps['bus'];
  logger: Logger;
  metrics: ClientMetrics;
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
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as OwnedSocket)[CONNECTION].onClose(code, reason);
}
function onSocketError(this: WebSocket, err: Error): void {
  (this as OwnedSocket)[CONNECTION].onError(err);
}

/** One subscriber WebSocket: the socket under a Session and its messages (ws-messages.ts), plus ping/pong. */
export class WsConnection implements Connection, SessionSocket {
  readonly transport = 'ws' as const;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly session: Session;
  private readonly messages: WsMessages;
  /** Heartbeats sent since the last pong. */
  private missedPongs = 0;
  /** Whether one more client message fits MAX_CLIENT_MESSAGES_PER_SECOND (subscribe floods). */
  private readonly admitMessage: () => boolean;

  constructor(
    private readonly socket: WebSocket,
    claims: SubscriberClaims,
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
    this.messages = new WsMessages(this.session, (text) => this.reply(text), deps);
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

  writePresence(message: PresenceMessage): void {
    this.socket.send(message.json, TEXT);
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

  /** @internal The peer's close frame's code and reason (1005/1006 and empty when there was none). */
  onClose(code: number, reason: Buffer): void {
    this.session.closedByPeer(code, reason.toString('utf8'));
    this.resolveClosed();
  }

  /** @internal */
  onError(err: Error): void {
    this.deps.logger.debug({ err }, 'websocket error');
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.session.isOpen) return;
    this.session.received();
    if (!this.admitMessage()) {
      this.deps.metrics.errors.inc({ code: 'rate_limited' });
      this.session.close(CloseCode.rateLimited, 'too many messages; slow down');
      return;
    }
    if (isBinary) {
      this.reply(errorMessage(new RelayError('invalid_json', 'Frames are JSON text; binary frames are not accepted.')));
      this.deps.metrics.errors.inc({ code: 'invalid_json' });
      return;
    }
    this.messages.handle(data.toString('utf8'));
  }

  private reply(text: string): void {
    if (this.session.isOpen) this.socket.send(text, TEXT);
  }
}
