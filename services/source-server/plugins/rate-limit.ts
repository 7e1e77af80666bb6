import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { RateLimiter } from '../../engine/rate-limiter.js';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError, isRelayError } from '../../protocol/errors.js';

export interface PublishRateLimitDeps {
  limiter: RateLimiter;
  /** With auth off there is no key to count by, so the client address is the identity. */
  authDisabled: boolean;
}

const SINGLE_ROUTE = '/v1/channels/:channel/events';
const BATCH_ROUTE = '/v1/events';

/**
 * PUBLISH_RATE_LIMIT: events per publisher key, counted across replicas.
 * Runs as a preHandler, after auth (401 first) and after the body is read,
 * because a batch counts as its number of events; before anything is
 * stored, so a refused request stores nothing.
 */
export function registerPublishRateLimit(app: FastifyInstance, { limiter, authDisabled }: PublishRateLimitDeps): void {
  app.addHook('preHandler', async (request) => {
    const route = request.routeOptions.url;
    if (route !== SINGLE_ROUTE && route !== BATCH_ROUTE) return;
    const identity = authDisabled ? `ip:${request.ip}` : `key:${bearerToken(request.headers.authorization) ?? ''}`;
    const cost = route === BATCH_ROUTE ? batchSize(request) : 1;
    let decision;
    try {
      decision = await limiter.take(rateLimitKey(identity), cost);
    } catch (err) {
      if (isRelayError(err)) throw err;
      throw new RelayError('unavailable', 'The rate limit cannot be checked right now; retry shortly.', { cause: err });
    }
    if (!decision.allowed) {
      throw new RelayError('rate_limited', 'This publisher key is over its publish rate (PUBLISH_RATE_LIMIT); retry after the Retry-After seconds.', {
        retryAfter: decision.retryAfterSeconds,
      });
    }
  });
}

/**
 * The number of events a batch body holds. The route parses and validates
 * the body again; counting here costs one extra parse of a batch, paid only
 * when the limit is on. A body that is not a batch counts as one: the route
 * answers it with a 400 anyway.
 */
function batchSize(request: FastifyRequest): number {
  if (typeof request.body !== 'string') return 1;
  try {
    const value = JSON.parse(request.body) as { events?: unknown } | null;
    const events = value && typeof value === 'object' ? value.events : undefined;
    return Array.isArray(events) && events.length > 0 ? events.length : 1;
  } catch {
    return 1;
  }
}

/**
 * What a counter is keyed by: a digest of the credential, so that neither a
 * Redis dump nor MONITOR shows a publisher key.
 */
export function rateLimitKey(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 32);
}
