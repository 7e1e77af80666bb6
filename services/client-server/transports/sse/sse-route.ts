import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CloseCode } from '../../../protocol/close-codes.js';
import { subscribedMessage } from '../../../protocol/client-messages.js';
import { drainingError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import { sendError } from '../../../runtime/http/errors.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';
import { authenticateSubscriber, type SubscriberAuthConfig } from '../../auth/subscriber-auth.js';
import type { Connections } from '../../connections.js';
import type { OpenedSubscription } from '../../open-subscription.js';
import { Session, authorizeSubscribe, type SessionDeps } from '../../session.js';
import { corsHeaders } from './sse-cors.js';
import { multiChannelRequest, singleChannelRequest, type SseRequest } from './sse-request.js';
import { SseStream, sseConnection } from './sse-stream.js';
import { StreamCursor } from './stream-cursor.js';

export interface SseDeps extends SessionDeps {
  config: SessionDeps['config'] & SubscriberAuthConfig & Pick<Config, 'allowedOrigins' | 'maxSubscriptionsPerConnection'>;
  lifecycle: Lifecycle;
  connections: Connections;
  now: () => number;
}

/** Browsers cache an SSE preflight answer this long. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx buffers responses unless told not to; an event stream must not wait in a proxy.
  'x-accel-buffering': 'no',
};

/** PROTOCOL.md `GET /v1/sse/{channel}` and v1.1 `GET /v1/sse?channels=`, with their CORS preflights. */
export function registerSse(app: FastifyInstance, deps: SseDeps): void {
  for (const path of ['/v1/sse/:channel', '/v1/sse']) {
    app.options(path, async (request, reply) => {
      reply.headers({
        ...corsHeaders(request.headers.origin, deps.config.allowedOrigins),
        'access-control-allow-methods': 'GET',
        'access-control-allow-headers': 'Authorization, Last-Event-ID, Accept',
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      });
      return reply.code(204).send();
    });
  }
  const { ids } = deps.bus;
  app.get('/v1/sse/:channel', (request, reply) => serveStream(request, reply, deps, () => singleChannelRequest(request, ids)));
  app.get('/v1/sse', (request, reply) =>
    serveStream(request, reply, deps, () => multiChannelRequest(request, ids, deps.config.maxSubscriptionsPerConnection)),
  );
}

/**
 * Checked in PROTOCOL.md's order, over every channel of the request:
 * credentials (401), names and cursor (400), permission (403). Then every
 * channel is subscribed (all or none); once the 200 headers are sent, every
 * subscription is live.
 */
async function serveStream(request: FastifyRequest, reply: FastifyReply, deps: SseDeps, parse: () => SseRequest): Promise<void> {
  const cors = corsHeaders(request.headers.origin, deps.config.allowedOrigins);
  reply.headers(cors);
  if (deps.lifecycle.isDraining) return sendError(reply, drainingError());
  const claims = await authenticateSubscriber(request, deps.config, deps.now());
  const spec = parse();
  for (const channel of spec.channels) authorizeSubscribe(claims, channel, spec.presence);

  const stream = new SseStream(reply.raw);
  const session = new Session(stream, claims, deps, deps.now);
  stream.onClose(() => session.closedByPeer());
  // A multi-channel stream that is not resuming starts each channel after its newest id, so that its cursor has a position for every channel.
  const baseline = spec.multi && !spec.resuming;
  const results = await Promise.allSettled(
    spec.channels.map((channel) => session.subscribe(channel, { since: spec.since.get(channel), presence: spec.presence, baseline })),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    session.closedByPeer();
    throw failed.reason;
  }
  // From here on fastify no longer owns the response: it is a stream until either side ends it.
  reply.hijack();
  if (stream.gone) {
    // The client left while history was read.
    session.closedByPeer();
    return;
  }
  if (!stream.open({ ...cors, ...STREAM_HEADERS })) return;
  // Logged once, by the session's close line, with the stream's whole life (request-log.ts).
  request.loggedAsConnection = true;
  const opened = results.map((r) => (r as PromiseFulfilledResult<OpenedSubscription | undefined>).value!);
  const start = spec.multi ? stream.useCursor(new StreamCursor(spec.channels, new Map(opened.map((o) => [o.subscription.channel, o.from])))) : undefined;
  opened.forEach((o, i) => {
    const reply = subscribedMessage(o.subscription.channel, o.recovered, o.presence);
    // The last `subscribed` carries the starting cursor: a browser that reconnects before any event resumes from it.
    stream.writeSubscribed(reply, i === opened.length - 1 ? start : undefined);
  });
  deps.connections.add(sseConnection(stream, () => session.close(CloseCode.goingAway, 'server going away')));
  for (const o of opened) o.start();
}
