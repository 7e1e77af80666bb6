import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import { errorMessage } from '../../../protocol/client-messages.js';
import { RelayError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { ClientMetrics } from '../../client-metrics.js';
import type { SubscriberClaims } from '../../auth/jwt.js';
import type { Connection, ConnectionRegistry } from '../../connections.js';
import { inboundTokenBucket } from '../../limits/inbound-limit.js';
import type { TokenBucket } from '../../limits/token-bucket.js';
import type { OutboundEvent } from '../../outbound-event.js';
import { Session, type SessionDeps, type SessionSocket } from '../../session.js';
import type { PresenceMessage } from '../../subscription.js';
import { EXTENSION, deflatedFrameOf } from './ws-deflate.js';
import { framePayload, rawSocketOf, wsFrameOf } from './ws-frame.js';
import { WsMessages, type WsMessagesDeps, type WsReplies } from './ws-messages.js';
import type { WriteBatcher, WriteOutlet } from './write-batcher.js';

export interface WsConnectionDeps extends SessionDeps, WsMessagesDeps {
  config: SessionDeps['config'] & WsMessagesDeps['config'] & Pick<Config, 'maxClientMessagesPerSecond' | 'clientMessagesBurst'>;
  bus: SessionDeps['bus'] & WsMessagesDeps['bus'];
  logger: Logger;
  metrics: ClientMetrics;
  /** This app's WebSocket writes, gathered per socket (WRITE_DELAY_MS). */
  writes: WriteBatcher;
  now: () => number;
}

/** Heartbeats without a pong after which the peer is taken for gone (it never sent a close frame). */
const MISSED_PONGS_ALLOWED = 2;
/** A peer that never answers our close frame must not hold the drain: the socket is destroyed after this. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;

/** ws's own deflate never runs for us: replies go uncompressed (RSV1 0 is allowed per message), events are compressed once (ws-deflate.ts). */
const TEXT = { binary: false, compress: false } as const;
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
export class WsConnection implements Connection, SessionSocket, WriteOutlet, WsReplies {
  readonly transport = 'ws' as const;
  /** Told when the socket has closed (Connections.add); null once told. */
  private registry: ConnectionRegistry | null | undefined;
  private readonly session: Session;
  private readonly messages: WsMessages;
  /** Heartbeats sent since the last pong. */
  private missedPongs = 0;
  /** MAX_CLIENT_MESSAGES_PER_SECOND (subscribe floods), made on the first client message; null when the limit is off. */
  private inbound: TokenBucket | null | undefined;
  // WriteOutlet: what the app's WriteBatcher holds for this socket.
  held: Buffer[] | null = null;
  heldBytes = 0;

  constructor(
    private readonly socket: WebSocket,
    claims: SubscriberClaims,
    private readonly deps: WsConnectionDeps,
    /** The window our compressed frames may use (ws-deflate.ts); 0: the socket is uncompressed. */
    private readonly deflateBits = 0,
  ) {
    // Shared listener functions find their connection through the socket, instead of four
    // closures per connection: an idle connection's memory is what 10,000 of them cost.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    this.session = new Session(this, claims, deps, deps.now);
    this.messages = new WsMessages(this.session, this, deps);
  }

  // --- SessionSocket: how the session writes and ends -----------------------

  bufferedBytes(): number {
    // Reads the socket's write queue length: no syscall.
    return this.socket.bufferedAmount;
  }

  writeEvent(event: OutboundEvent): void {
    const raw = this.outletSocket();
    if (raw) {
      // Safe beside ws's own writes: ws never compresses for us (TEXT), so its Sender writes every
      // frame synchronously and in call order, and every send of ours first flushes what is held
      // here, so whole frames written here never interleave with, or overtake, its frames.
      this.deps.writes.write(this, raw, this.deflateBits > 0 ? deflatedFrameOf(event, this.deflateBits) : wsFrameOf(event));
    } else {
      this.socket.send(framePayload(wsFrameOf(event)), TEXT);
      this.deps.writes.count();
    }
  }

  writePresence(message: PresenceMessage): void {
    this.send(message.json);
  }

  drained(): Promise<void> {
    const raw = this.outletSocket();
    return raw && raw.writableLength > 0 ? whenDrained(raw) : Promise.resolve();
  }

  end(code: number, reason: string): void {
    this.deps.writes.flush(this);
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS).unref();
  }

  // --- WriteOutlet -------------------------------------------------------------

  outletSocket(): Duplex | undefined {
    return this.socket.readyState === OPEN ? rawSocketOf(this.socket) : undefined;
  }

  // --- Connection: heartbeat and drain ----------------------------------------

  track(registry: ConnectionRegistry): void {
    if (this.registry === null) registry.closed(this);
    else this.registry = registry;
  }

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
    this.deps.writes.discard(this);
    this.session.closedByPeer(code, reason.toString('utf8'));
    const registry = this.registry;
    this.registry = null;
    registry?.closed(this);
  }

  /** @internal */
  onError(err: Error): void {
    this.deps.logger.debug({ err }, 'websocket error');
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.session.isOpen) return;
    this.session.received();
    if (this.inbound === undefined) this.inbound = inboundTokenBucket(this.deps.config);
    if (this.inbound !== null && !this.inbound.take()) {
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
    if (this.deflateBits > 0) releaseInflater(this.socket);
  }

  /** WsReplies: a control reply to the client, after the events already given for it. */
  reply(text: string): void {
    if (this.session.isOpen) this.send(text);
  }

  private send(text: string): void {
    this.deps.writes.flush(this);
    this.socket.send(text, TEXT);
  }
}

/**
 * Closes the zlib stream ws made to inflate the client's message (it makes
 * one again for the next): client messages are a few control frames, and a
 * kept stream is ~20 KiB of zlib state and buffers per socket, as much as
 * the rest of an idle connection several times over. Runs from the
 * 'message' listener, when ws is done with that message's inflate (with
 * client_no_context_takeover it keeps nothing in it for the next one).
 */
function releaseInflater(socket: WebSocket): void {
  const extensions = (socket as unknown as { _extensions?: Record<string, { _inflate?: { close(): void } | null } | undefined> })._extensions;
  const deflate = extensions?.[EXTENSION];
  if (!deflate?._inflate || typeof deflate._inflate.close !== 'function') return;
  deflate._inflate.close();
  deflate._inflate = null;
}

/** Resolves once `raw` has written everything it holds, or closed. */
function whenDrained(raw: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}
