import { randomInt } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { PusherCode } from '../../protocol/pusher/codes.js';
import { PusherFrameError, parseClientFrame, type PusherClientMessage } from '../../protocol/pusher/client-frames.js';
import { PONG, connectionEstablished, errorMessage, signinSuccess } from '../../protocol/pusher/messages.js';
import type { Connection, ConnectionRegistry } from '../connections.js';
import { inboundTokenBucket } from '../limits/inbound-limit.js';
import { TokenBucket } from '../limits/token-bucket.js';
import type { OutboundEvent } from '../outbound-event.js';
import type { WriteOutlet } from '../transports/ws/write-batcher.js';
import { framePayload, rawSocketOf } from '../transports/ws/ws-frame.js';
import type { SignedInUser } from './channel-auth.js';
import { checkClientEvent } from './client-events.js';
import type { PusherContext } from './pusher-context.js';
import { pusherWireOf } from './pusher-frame.js';
import { PusherSubscriptions, type SubscriptionsOwner } from './pusher-subscriptions.js';
import { checkSignin } from './signin.js';

/** Heartbeats (WebSocket pings, HEARTBEAT_SECONDS) without a pong after which the peer is gone: close 4201, pusher-js reconnects at once. */
const MISSED_PONGS_ALLOWED = 2;
/** A peer that never answers our close frame must not hold the drain. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;
/** socket_id halves: random safe integers, `\d+\.\d+` as pusher-http-node's validateSocketId requires, unique across replicas in practice. */
const SOCKET_ID_HALF_MAX = 2 ** 47;
const OPEN = 1;
const TEXT = { binary: false } as const;

export function newSocketId(): string {
  return `${randomInt(1, SOCKET_ID_HALF_MAX)}.${randomInt(1, SOCKET_ID_HALF_MAX)}`;
}

/**
 * One Pusher WebSocket (`/app/{key}`): the handshake, the message loop, and
 * the sink of its channels' events. Pusher's close codes only
 * (protocol/pusher/codes.ts): every problem with one subscription or one
 * client event is a message and the socket stays.
 */
export class PusherConnection implements Connection, SubscriptionsOwner, WriteOutlet {
  readonly socketId = newSocketId();
  /** Whom to tell once the socket is gone and its channels are given back (null: already told nobody, it is closed). */
  private registry: ConnectionRegistry | null | undefined;
  /** WriteOutlet: frames the batcher holds for this socket (WRITE_DELAY_MS). */
  held: Buffer[] | null = null;
  heldBytes = 0;
  private open = true;
  private missedPongs = 0;
  private user: SignedInUser | undefined;
  private released: Promise<void> = Promise.resolve();
  private readonly channels: PusherSubscriptions;
  /** MAX_CLIENT_MESSAGES_PER_SECOND, made at the first message (null: off). */
  private inbound: ReturnType<typeof inboundTokenBucket> | undefined;
  private readonly clientEvents: TokenBucket;

  constructor(
    private readonly socket: WebSocket,
    readonly app: PusherApp,
    private readonly ctx: PusherContext,
  ) {
    this.channels = new PusherSubscriptions(this, ctx);
    const rate = app.limits.clientEventsPerSecond;
    // No burst above the rate: "no more than 10 messages per second" (pusher/docs).
    this.clientEvents = new TokenBucket({ ratePerSecond: rate, capacity: rate });
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('pong', () => (this.missedPongs = 0));
    socket.on('close', () => this.onClose());
    socket.on('error', (err: Error) => ctx.logger.debug({ err }, 'pusher websocket error'));
    ctx.metrics.connections.inc({ transport: 'pusher' });
    this.sendText(connectionEstablished(this.socketId, app.limits.activityTimeoutSeconds));
  }

  signedInUser(): SignedInUser | undefined {
    return this.user;
  }

  // --- Sink: the channels' events -------------------------------------------------

  send(event: OutboundEvent): boolean {
    if (!this.open) return false;
    const wire = pusherWireOf(event);
    if (!wire || wire.skip === this.socketId) return true;
    if (this.socket.bufferedAmount > this.ctx.config.maxBufferedBytes) {
      this.ctx.metrics.slowConsumerDisconnects.inc();
      this.close(PusherCode.overCapacity, 'Slow consumer: too far behind');
      return false;
    }
    const raw = this.outletSocket();
    if (raw) {
      // Whole frames beside ws's own: no extension is negotiated on this route, so its Sender writes
      // synchronously and in call order, and every send of ours first flushes what is held.
      this.ctx.writes.write(this, raw, wire.frame);
    } else {
      this.socket.send(framePayload(wire.frame), TEXT);
      this.ctx.writes.count();
    }
    return true;
  }

  /** Pusher clients cannot resume: a bus gap is logged by the hub, and the socket goes on. */
  gap(): void {}

  sendText(text: string): void {
    if (!this.open || this.socket.readyState !== OPEN) return;
    this.ctx.writes.flush(this);
    this.socket.send(text, TEXT);
  }

  outletSocket(): Duplex | undefined {
    return this.socket.readyState === OPEN ? rawSocketOf(this.socket) : undefined;
  }

  // --- Connection: heartbeat, drain, terminate -----------------------------------

  track(registry: ConnectionRegistry): void {
    if (this.registry === null) registry.closed(this);
    else this.registry = registry;
  }

  heartbeat(): void {
    if (!this.open) return;
    if (this.missedPongs >= MISSED_PONGS_ALLOWED) {
      this.closeWithError(PusherCode.pongTimeout, 'Pong reply not received');
      return;
    }
    this.missedPongs++;
    this.socket.ping();
  }

  goAway(): void {
    this.closeWithError(PusherCode.reconnect, 'Server closing; reconnect shortly');
  }

  terminate(): void {
    this.closeWithError(PusherCode.unauthorized, 'You got disconnected by the app.');
  }

  // --- the message loop ---------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.open) return;
    if (this.inbound === undefined) this.inbound = inboundTokenBucket(this.ctx.config);
    if (this.inbound !== null && !this.inbound.take()) {
      this.ctx.metrics.errors.inc({ code: 'rate_limited' });
      this.sendText(errorMessage(PusherCode.clientEventRejected, 'Rate limit exceeded: message dropped'));
      return;
    }
    let message: PusherClientMessage;
    try {
      if (isBinary) throw new PusherFrameError('Frames are JSON text; binary frames are not accepted.');
      message = parseClientFrame(data.toString('utf8'));
    } catch (err) {
      if (!(err instanceof PusherFrameError)) throw err;
      this.sendText(errorMessage(null, err.message));
      return;
    }
    switch (message.type) {
      case 'ping':
        return this.sendText(PONG);
      case 'pong':
        return;
      case 'subscribe':
        return this.channels.subscribe(message);
      case 'unsubscribe':
        return this.channels.unsubscribe(message.channel);
      case 'signin':
        return this.signin(message);
      case 'client-event':
        return this.clientEvent(message);
      default:
        this.sendText(errorMessage(null, `Unknown event ${JSON.stringify(message.event.slice(0, 64))}`));
    }
  }

  private signin(message: { auth: unknown; userData: unknown }): void {
    const result = checkSignin(this.app, this.socketId, message, this.user);
    if ('problem' in result) {
      this.ctx.metrics.errors.inc({ code: 'pusher_4009' });
      this.sendText(errorMessage(PusherCode.unauthorized, result.problem));
      return;
    }
    if (!this.user) this.ctx.users.add(this.app.id, result.user.id, this);
    this.user = result.user;
    this.sendText(signinSuccess(result.userData));
  }

  private clientEvent(message: { event: string; channel: unknown; data: string }): void {
    const state = typeof message.channel === 'string' ? this.channels.live(message.channel) : undefined;
    const checked = checkClientEvent(this.app, { socketId: this.socketId, signedInId: this.user?.id }, state, message, () => this.clientEvents.take(), this.ctx.now());
    if ('code' in checked) {
      this.ctx.metrics.errors.inc({ code: checked.code === null ? 'pusher_client_event' : `pusher_${checked.code}` });
      this.sendText(errorMessage(checked.code, checked.message));
      return;
    }
    this.ctx.bus.publish([checked.event]).catch((err: unknown) => {
      this.ctx.logger.warn({ err, channel: checked.event.channel }, 'pusher client event not stored');
      this.sendText(errorMessage(null, 'The client event could not be delivered: the relay cannot reach its event store right now'));
    });
  }

  // --- the one end ------------------------------------------------------------------

  private closeWithError(code: number, reason: string): void {
    if (!this.open) return;
    this.sendText(errorMessage(code, reason));
    this.close(code, reason);
  }

  private close(code: number, reason: string): void {
    if (!this.release()) return;
    this.ctx.writes.flush(this);
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS).unref();
  }

  /** Everything given back once, whoever ends the socket: channels (presence leaves first), the user index, the gauge. */
  private release(): boolean {
    if (!this.open) return false;
    this.open = false;
    if (this.user) this.ctx.users.remove(this.app.id, this.user.id, this);
    this.ctx.metrics.connections.dec({ transport: 'pusher' });
    this.released = this.channels.releaseAll();
    return true;
  }

  /** The socket is gone: the registry is told once its channels are given back too (drain waits for it). */
  private onClose(): void {
    this.ctx.writes.discard(this);
    this.release();
    void this.released.then(() => {
      const registry = this.registry;
      this.registry = null;
      registry?.closed(this);
    });
  }
}
