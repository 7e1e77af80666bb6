import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RelayError, errorBody, isRelayError } from '../../protocol/errors.js';
import type { ServiceMetrics } from '../metrics.js';

/** Answers `err` with its PROTOCOL.md status and coded body; its code goes on the request's log line. */
export function sendError(reply: FastifyReply, err: RelayError): FastifyReply {
  reply.request.logErrorCode = err.code;
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  return reply.code(err.status).type('application/json').send(errorBody(err));
}

/** Maps fastify's own errors onto PROTOCOL.md codes, so that every error body is coded. */
export function toRelayError(err: FastifyError | Error): RelayError {
  if (isRelayError(err)) return err;
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RelayError('unsupported_media_type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RelayError('payload_too_large');
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
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new RelayError('invalid_request', err.message);
  return new RelayError('internal', undefined, { cause: err });
}

/** Every error and unknown route of `app` answered with a PROTOCOL.md code and counted. */
export function installErrorHandling(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const relayError = toRelayError(error);
    metrics.errors.inc({ code: relayError.code });
    if (relayError.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    else request.log.debug({ code: relayError.code }, relayError.message);
    return sendError(reply, relayError);
  });
  app.setNotFoundHandler((_request, reply) => {
    metrics.errors.inc({ code: 'not_found' });
    return sendError(reply, new RelayError('not_found'));
  });
}

/**
 * Fastify answers a few malformed requests before any route or error handler
 * runs (a path with broken percent-encoding such as `/v1/channels/%ZZ/events`
 * is FST_ERR_BAD_URL), with its own uncoded body. Passed as the
 * `frameworkErrors` option, this answers them like every other error:
 * PROTOCOL.md status and code. Found by the fuzz suite (test/system/fuzz).
 * Such a request never reaches the onResponse hook (request-log.ts), so its
 * one log line is written here.
 */
export function frameworkErrorHandler(metrics: ServiceMetrics) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const relayError =
      error.code === 'FST_ERR_BAD_URL'
        ? new RelayError('invalid_request', 'The request path is not validly percent-encoded.')
        : new RelayError('invalid_request', 'The request could not be routed.');
    metrics.errors.inc({ code: relayError.code });
    request.log.info({ method: request.method, status: relayError.status, code: relayError.code, ip: request.ip }, 'request completed');
    void sendError(reply, relayError);
  };
}
