import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
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
 * `unauthorized` carrying the reason.
 */
export async function authenticateSubscriber(request: FastifyRequest, config: SubscriberAuthConfig, nowMs: number): Promise<SubscriberClaims> {
  if (config.authDisabled) return openAccessClaims();
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = typeof query?.token === 'string' ? query.token : undefined;
  const token = bearerToken(request.headers.authorization) ?? fromQuery;
  if (!token) throw new RelayError('unauthorized', 'A subscriber token is required: Authorization: Bearer <jwt> or ?token=<jwt>.');
  try {
    return await verifySubscriberToken(token, request.server.subscriberKeys, nowMs);
  } catch (err) {
    if (err instanceof TokenError) throw new RelayError('unauthorized', `The subscriber token was rejected: ${err.message}.`);
    throw err;
  }
}

/** Whether a browser page from `origin` may connect (PROTOCOL.md, Browsers). */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes('*') || allowed.includes(origin);
}
