import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { ChannelPatterns } from './channel-patterns.js';
import { TokenError, verifySubscriberToken, type SubscriberClaims } from './jwt.js';

const OPEN_ACCESS: SubscriberClaims = { channels: ChannelPatterns.ALL };

/**
 * The subscriber's claims from `Authorization: Bearer <jwt>` or `?token=`
 * (the header wins when both are given: PROTOCOL.md, Precise rules).
 */
export type SubscriberAuthConfig = Pick<Config, 'authDisabled' | 'subscriberJwtSecret'>;

export function authenticateSubscriber(request: FastifyRequest, config: SubscriberAuthConfig, nowMs: number): SubscriberClaims {
  if (config.authDisabled) return OPEN_ACCESS;
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = typeof query?.token === 'string' ? query.token : undefined;
  const token = bearerToken(request.headers.authorization) ?? fromQuery;
  if (!token) throw new RelayError('unauthorized', 'A subscriber token is required: Authorization: Bearer <jwt> or ?token=<jwt>.');
  try {
    return verifySubscriberToken(token, config.subscriberJwtSecret ?? '', nowMs);
  } catch (err) {
    if (err instanceof TokenError) throw new RelayError('unauthorized', `The subscriber token was rejected: ${err.message}.`);
    throw err;
  }
}

/** Whether a browser page from `origin` may connect (PROTOCOL.md, Browsers). */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes('*') || allowed.includes(origin);
}
