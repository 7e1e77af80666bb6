import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { setLogSubject } from '../../runtime/http/request-log.js';
import { openAccessClaims, type SubscriberClaims } from './claims.js';
import { TokenError, verifySubscriberToken } from './jwt.js';
import type { SubscriberKeys } from './subscriber-keys.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * What subscriber tokens are checked against, decorated by
     * buildClientApp, so that every transport's door reads the same keys
     * the way fastify plugins share one verifier (`@fastify/jwt`).
     */
    subscriberKeys: SubscriberKeys;
  }
}

export type SubscriberAuthConfig = Pick<Config, 'authDisabled'>;

/**
 * The subscriber's claims from `Authorization: Bearer <jwt>` or `?token=`
 * (the header wins when both are given: PROTOCOL.md, Precise rules),
 * checked against the app's `subscriberKeys`. A refusal is 401
 * `unauthorized` carrying the reason, and logged at info with it (`missing`,
 * or the TokenError's: `token expired`, `bad token signature`, ...; never
 * the token). The claims' `sub` is the request's log subject.
 */
export async function authenticateSubscriber(request: FastifyRequest, config: SubscriberAuthConfig, nowMs: number): Promise<SubscriberClaims> {
  const claims = config.authDisabled ? openAccessClaims() : await verifiedClaims(request, nowMs);
  setLogSubject(request, claims.sub);
  return claims;
}

async function verifiedClaims(request: FastifyRequest, nowMs: number): Promise<SubscriberClaims> {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = typeof query?.token === 'string' ? query.token : undefined;
  const token = bearerToken(request.headers.authorization) ?? fromQuery;
  if (!token) {
    request.log.info({ reason: 'missing' }, 'subscriber credentials refused');
    throw new RelayError('unauthorized', 'A subscriber token is required: Authorization: Bearer <jwt> or ?token=<jwt>.');
  }
  try {
    return await verifySubscriberToken(token, request.server.subscriberKeys, nowMs);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    request.log.info({ reason: err.message }, 'subscriber credentials refused');
    throw new RelayError('unauthorized', `The subscriber token was rejected: ${err.message}.`);
  }
}

/** Whether a browser page from `origin` may connect (PROTOCOL.md, Browsers). */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes('*') || allowed.includes(origin);
}
