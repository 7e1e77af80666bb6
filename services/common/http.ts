import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Bus } from './bus/bus.js';
import { RelayError, errorBody, isRelayError } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics } from './metrics.js';

/** Seconds a client is told to wait when the relay is draining or Redis is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

export function sendError(reply: FastifyReply, err: RelayError): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  return reply.code(err.status).type('application/json').send(errorBody(err));
}

/** Maps fastify's own errors onto PROTOCOL.md codes, so that every error body is coded. */
export function toRelayError(err: FastifyError | Error): RelayError {
  if (isRelayError(err)) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RelayError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RelayError('payload_too_large', 'The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RelayError('invalid_json', 'The body is empty; send a JSON value.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new RelayError('invalid_request', 'The Content-Length header does not match the body.');
  }
  if (fe.statusCode === 400 && (err instanceof SyntaxError || /JSON/i.test(err.message))) {
    return new RelayError('invalid_json', 'The body is not valid JSON.');
  }
  if (fe.validation) return new RelayError('invalid_request', err.message);
  // JSON nested tens of thousands deep parses, but re-serializing it (a batch
  // event's data, a multi-line body) overflows the stack: the client's doing.
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new RelayError('invalid_request', 'The JSON is nested too deeply.');
  }
  if (fe.statusCode === 404) return new RelayError('not_found', 'No such resource.');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new RelayError('invalid_request', err.message);
  }
  return new RelayError('internal', 'Internal error.', { cause: err });
}

export function installErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const relayError = toRelayError(error);
    metrics.errors.inc({ code: relayError.code });
    if (relayError.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    else request.log.debug({ code: relayError.code }, relayError.message);
    return sendError(reply, relayError);
  });
  app.setNotFoundHandler((_request, reply) => {
    metrics.errors.inc({ code: 'not_found' });
    return sendError(reply, new RelayError('not_found', 'No such endpoint. See PROTOCOL.md for the endpoints.'));
  });
}

export interface OpsDeps {
  bus: Bus;
  lifecycle: Lifecycle;
  metrics: Metrics;
}

/** GET /healthz (alive), /readyz (can serve), /metrics (Prometheus). */
export function registerOpsRoutes(app: FastifyInstance, { bus, lifecycle, metrics }: OpsDeps): void {
  // While draining, every answer closes its connection: a keep-alive client
  // would otherwise hold the server open (fastify keeps idle sockets 72 s)
  // and never learn to go elsewhere.
  app.addHook('onRequest', async (_request, reply) => {
    if (lifecycle.isDraining) reply.header('connection', 'close');
  });
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    if (lifecycle.isDraining) {
      return sendError(reply, new RelayError('unavailable', 'Draining for shutdown.', { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS }));
    }
    const health = bus.health();
    if (!health.ok) {
      return sendError(reply, new RelayError('unavailable', `Not ready: ${health.reason ?? 'bus unavailable'}.`, { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS }));
    }
    return { status: 'ready' };
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
