import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../common/auth/publisher-keys.js';
import { ChannelPatterns } from '../common/auth/channel-patterns.js';
import { TokenError, verifySubscriberToken, type SubscriberClaims } from '../common/auth/jwt.js';
import type { Config } from '../common/config.js';
import { RelayError } from '../common/errors.js';

const OPEN_ACCESS: SubscriberClaims = { channels: ChannelPatterns.ALL };

/**
 * The subscriber's claims from `Authorization: Bearer <jwt>` or `?token=`
 * (the header wins when both are given: PROTOCOL.md, Precise rules).
 */
export function authenticateSubscriber(
  request: FastifyRequest,
  config: Pick<Config, 'authDisabled' | 'subscriberJwtSecret'>,
  nowMs: number,
): SubscriberClaims {
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
