import { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request, for its log line: a publisher key's digest or a token's `sub`, never a credential. */
    logSubject: string | null;
    /** The PROTOCOL.md code of an error answer, for its log line. */
    logErrorCode: string | null;
    /** Set once the request became a long-lived connection, whose close line is its log line instead. */
    loggedAsConnection: boolean;
  }
}

/**
 * Fastify options that turn its own request logging off (two lines per
 * request, `incoming request` and `request completed`, where one is enough);
 * installRequestLog writes the one. Through a LogController, fastify 5's
 * replacement of the deprecated top-level `disableRequestLogging`.
 */
export function withoutFastifyRequestLogs(): { logController: LogController } {
  return { logController: new LogController({ disableRequestLogging: true }) };
}

/**
 * One info line per answered request, written when the answer is finished
 * (`request completed`: method, route pattern, path, status, duration in ms,
 * subject, and the error code of an error answer), instead of fastify's two.
 * Never the query string or a header: `?token=` and `Authorization` carry
 * credentials. A route's `logLevel` applies (the probes and /metrics log
 * at warn, so not at all). A WebSocket upgrade is never finished as an HTTP
 * answer and an SSE stream is marked `loggedAsConnection`: each is logged by
 * its connection's close line (client-server session.ts), so once. A request
 * the client abandoned before its answer (no `finish`) is not logged, as
 * with fastify's own logging.
 */
export function installRequestLog(app: FastifyInstance): void {
  app.decorateRequest('logSubject', null);
  app.decorateRequest('logErrorCode', null);
  app.decorateRequest('loggedAsConnection', false);
  app.addHook('onResponse', async (request, reply) => {
    if (request.loggedAsConnection) return;
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        subject: request.logSubject ?? undefined,
        code: request.logErrorCode ?? undefined,
        ip: request.ip,
      },
      'request completed',
    );
  });
}

/** Records who made `request` for its log line (see FastifyRequest.logSubject). */
export function setLogSubject(request: FastifyRequest, subject: string | undefined): void {
  if (subject !== undefined) request.logSubject = subject;
}
