import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertChannel } from '../../../protocol/channel.js';
import { CloseCode } from '../../../protocol/close-codes.js';
import { subscribedMessage } from '../../../protocol/client-messages.js';
import { RelayError, drainingError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import { sendError } from '../../../runtime/http/errors.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';
import { authenticateSubscriber, type SubscriberAuthConfig } from '../../auth/subscriber-auth.js';
import type { Connections } from '../../connections.js';
import { Session, type SessionDeps } from '../../session.js';
import { corsHeaders } from './sse-cors.js';
import { SseStream, sseConnection } from './sse-stream.js';

export interface SseDeps extends SessionDeps {
  config: SessionDeps['config'] & SubscriberAuthConfig & Pick<Config, 'allowedOrigins'>;
  lifecycle: Lifecycle;
  connections: Connections;
  now: () => number;
}

/** Browsers cache an SSE preflight answer this long. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** PROTOCOL.md `GET /v1/sse/{channel}`, with its CORS preflight. */
export function registerSse(app: FastifyInstance, deps: SseDeps): void {
  app.options('/v1/sse/:channel', async (request, reply) => {
    reply.headers({
      ...corsHeaders(request.headers.origin, deps.config.allowedOrigins),
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'Authorization, Last-Event-ID, Accept',
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    });
    return reply.code(204).send();
  });

  app.get('/v1/sse/:channel', async (request: FastifyRequest, reply: FastifyReply) => {
    const cors = corsHeaders(request.headers.origin, deps.config.allowedOrigins);
    reply.headers(cors);
    if (deps.lifecycle.isDraining) return sendError(reply, drainingError());
    // PROTOCOL.md order: credentials (401), channel and since shape (400), permission (403).
    const claims = await authenticateSubscriber(request, deps.config, deps.now());
    const channel = assertChannel((request.params as { channel: string }).channel);
    const header = request.headers['last-event-id'];
    const query = (request.query as Record<string, unknown>).since;
    const since = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
    if (since !== undefined && !deps.bus.ids.isValid(since)) {
      throw new RelayError('invalid_request', 'Last-Event-ID / since must be an event id this server issued.', { channel });
    }
    if (!claims.channels.allows(channel)) throw new RelayError('forbidden', undefined, { channel });

    const stream = new SseStream(reply.raw);
    const session = new Session(stream, claims, deps, deps.now);
    stream.onClose(() => session.closedByPeer());
    let opened;
    try {
      opened = await session.subscribe(channel, since);
    } catch (err) {
      session.closedByPeer();
      throw err;
    }
    // From here on fastify no longer owns the response: it is a stream until either side ends it.
    reply.hijack();
    if (!opened || stream.gone) {
      // The client left while history was read.
      session.closedByPeer();
      stream.end();
      return;
    }
    reply.raw.writeHead(200, {
      ...cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to; an event stream must not wait in a proxy.
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`event: subscribed\ndata: ${subscribedMessage(channel, opened.recovered)}\n\n`);
    deps.connections.add(sseConnection(stream, () => session.close(CloseCode.goingAway, 'server going away')));
    opened.start();
  });
}
