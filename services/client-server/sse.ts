import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SubscriberClaims } from '../common/auth/jwt.js';
import type { Bus, BusEvent } from '../common/bus/bus.js';
import { assertChannel } from '../common/channel.js';
import type { Config } from '../common/config.js';
import { RelayError } from '../common/errors.js';
import { isEventId } from '../common/event-id.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS, sendError } from '../common/http.js';
import type { Lifecycle } from '../common/lifecycle.js';
import type { Metrics } from '../common/metrics.js';
import { subscribedMessage } from '../common/protocol.js';
import type { Connection, Connections } from './connections.js';
import type { Hub } from './hub.js';
import { openSubscription } from './open-subscription.js';
import type { Sink, Subscription } from './subscription.js';
import { authenticateSubscriber } from './subscriber-auth.js';

export interface SseDeps {
  config: Config;
  logger: Logger;
  bus: Bus;
  hub: Hub;
  metrics: Metrics;
  lifecycle: Lifecycle;
  connections: Connections;
  now: () => number;
}

const ID_PREFIX = Buffer.from('id: ');
const DATA_PREFIX = Buffer.from('\ndata: ');
const EVENT_END = Buffer.from('\n\n');
const PING = ': ping\n\n';

/** CORS for `GET /v1/sse/*` (PROTOCOL.md, Browsers): `*`, or the request's origin when listed. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  if (origin !== undefined && allowed.includes(origin)) return { 'access-control-allow-origin': origin, vary: 'Origin' };
  return {};
}

export function registerSse(app: FastifyInstance, deps: SseDeps): void {
  app.options('/v1/sse/:channel', async (request, reply) => {
    reply.headers({
      ...corsHeaders(request.headers.origin, deps.config.allowedOrigins),
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'Authorization, Last-Event-ID, Accept',
      'access-control-max-age': '600',
    });
    return reply.code(204).send();
  });

  app.get('/v1/sse/:channel', async (request: FastifyRequest, reply: FastifyReply) => {
    const cors = corsHeaders(request.headers.origin, deps.config.allowedOrigins);
    reply.headers(cors);
    if (deps.lifecycle.isDraining) {
      return sendError(reply, new RelayError('unavailable', 'Draining for shutdown; reconnect to another server.', { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS }));
    }
    // PROTOCOL.md order: credentials (401), channel and since shape (400), permission (403).
    const claims = authenticateSubscriber(request, deps.config, deps.now());
    const channel = assertChannel((request.params as { channel: string }).channel);
    const header = request.headers['last-event-id'];
    const query = (request.query as Record<string, unknown>).since;
    const since = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
    if (since !== undefined && !isEventId(since)) {
      throw new RelayError('invalid_request', 'Last-Event-ID / since must be an event id this server issued.', { channel });
    }
    if (!claims.channels.allows(channel)) throw new RelayError('forbidden', 'Your token does not allow this channel.', { channel });

    const stream = new SseStream(reply.raw, claims, deps);
    const opened = await openSubscription(deps, channel, since, stream);
    if (!stream.attach(opened.subscription)) return reply.hijack(); // the client left while history was read
    // From here on fastify no longer owns the response: it is a stream until either side ends it.
    reply.hijack();
    reply.raw.writeHead(200, {
      ...cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to; an event stream must not wait in a proxy.
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`event: subscribed\ndata: ${subscribedMessage(channel, opened.recovered)}\n\n`);
    deps.connections.add(stream);
    opened.start();
  });
}

/** One SSE response carrying one channel. */
class SseStream implements Sink, Connection {
  readonly transport = 'sse' as const;
  readonly closed: Promise<void>;
  private subscription: Subscription | undefined;
  private open = true;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    claims: SubscriberClaims,
    private readonly deps: SseDeps,
  ) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()));
    res.once('close', () => this.cleanup());
    if (claims.exp !== undefined) {
      const delay = Math.max(0, claims.exp * 1000 - deps.now());
      this.expiryTimer = setTimeout(() => this.end(), Math.min(delay, 2 ** 31 - 1)).unref();
    }
  }

  /** Takes ownership of the subscription; false (and the subscription released) when the client already left. */
  attach(subscription: Subscription): boolean {
    if (!this.open || this.res.destroyed) {
      subscription.closed = true;
      this.deps.hub.leave(subscription);
      return false;
    }
    this.subscription = subscription;
    this.deps.metrics.connections.inc({ transport: 'sse' });
    this.deps.metrics.subscriptions.inc();
    return true;
  }

  send(event: BusEvent): boolean {
    if (!this.open) return false;
    if (this.res.writableLength > this.deps.config.maxBufferedBytes) {
      this.deps.metrics.slowConsumerDisconnects.inc();
      this.end();
      return false;
    }
    // Built once per event, however many SSE subscribers the channel has.
    event.sse ??= Buffer.concat([ID_PREFIX, Buffer.from(event.id, 'latin1'), DATA_PREFIX, event.frame, EVENT_END]);
    this.res.write(event.sse);
    this.deps.metrics.eventsDelivered.inc({ transport: 'sse' });
    return true;
  }

  /** The client's EventSource reconnects with Last-Event-ID and learns recovered:false. */
  gap(): void {
    this.end();
  }

  heartbeat(): void {
    if (this.open) this.res.write(PING);
  }

  goAway(): void {
    this.end();
  }

  private end(): void {
    if (!this.open) return;
    this.res.end();
    this.cleanup();
  }

  private cleanup(): void {
    const wasOpen = this.open;
    this.open = false;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (wasOpen && this.subscription) {
      this.subscription.closed = true;
      this.deps.hub.leave(this.subscription);
      this.deps.metrics.connections.dec({ transport: 'sse' });
      this.deps.metrics.subscriptions.dec();
    }
    if (!this.res.writableEnded) this.res.end();
  }
}
