import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RelayError } from './errors.js';
import { sendError } from './http.js';
import type { Metrics } from './metrics.js';

/**
 * Fastify answers a few malformed requests before any route or error handler
 * runs (a path with broken percent-encoding such as `/v1/channels/%ZZ/events`
 * is FST_ERR_BAD_URL), with its own uncoded body. Passed as the
 * `frameworkErrors` option, this answers them like every other error:
 * PROTOCOL.md status and code. Found by the fuzz suite (test/fuzz).
 */
export function frameworkErrorHandler(metrics: Metrics) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const relayError =
      error.code === 'FST_ERR_BAD_URL'
        ? new RelayError('invalid_request', 'The request path is not validly percent-encoded.')
        : new RelayError('invalid_request', 'The request could not be routed.');
    metrics.errors.inc({ code: relayError.code });
    void sendError(reply, relayError);
  };
}
