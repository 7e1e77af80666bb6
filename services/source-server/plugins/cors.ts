import type { FastifyInstance } from 'fastify';

/**
 * Opt-in CORS for the publish and server API, so that a page on another
 * origin (the console served by the client-server, a team's admin tool) can
 * publish, read history and stats, and disconnect users with a publisher key. Off unless PUBLISH_ALLOWED_ORIGINS lists origins:
 * a publisher key in a browser is a development convenience, not a default.
 */

/** Browsers cache the preflight answer this long instead of asking before every publish. */
export const PUBLISH_PREFLIGHT_MAX_AGE_SECONDS = 600;

/** POST publishes and disconnects; GET the server API's reads. */
const ALLOWED_METHODS = 'GET, POST';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key';
/** Response headers a page may read: the replay marker and the back-off hint. */
const EXPOSED_HEADERS = 'Idempotent-Replayed, Retry-After';

/**
 * Adds CORS to `/v1/*` for `allowedOrigins` (exact origins like
 * `http://localhost:8081`, or `*`). An empty list registers nothing.
 * Call before the app is ready, e.g. in buildSourceApp.
 */
export function registerPublishCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  const any = allowedOrigins.includes('*');
  const allows = (origin: string) => any || allowedOrigins.includes(origin);

  // onRequest, so that refusals (401, 413, 429 ...) carry the headers too and the page can read their codes.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !request.url.startsWith('/v1/')) return;
    if (!any) reply.header('vary', 'Origin');
    if (!allows(origin)) return;
    reply.header('access-control-allow-origin', any ? '*' : origin);
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
  });

  app.options('/v1/*', { logLevel: 'warn' }, async (request, reply) => {
    const origin = request.headers.origin;
    // A refused origin gets no allow headers: the browser then blocks the request itself.
    if (origin !== undefined && allows(origin)) {
      reply
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', String(PUBLISH_PREFLIGHT_MAX_AGE_SECONDS));
    }
    return reply.code(204).send();
  });
}
