import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { PublisherKeys } from './publisher-keys.js';

export type PublisherCheck = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * Publisher authentication, run as an `onRequest` hook so that a request
 * without a valid key is answered 401 before its body is read. Keys are
 * compared in constant time (PublisherKeys). With `authDisabled` every
 * request passes, even when keys are configured (PROTOCOL.md, Auth).
 */
export function publisherAuth(config: Pick<Config, 'authDisabled' | 'publisherKeys'>): PublisherCheck {
  if (config.authDisabled) return () => {};
  const keys = new PublisherKeys(config.publisherKeys);
  return (request, reply) => {
    const key = bearerToken(request.headers.authorization);
    if (key === undefined || !keys.verify(key)) {
      reply.header('www-authenticate', 'Bearer');
      throw new RelayError('unauthorized', 'Send a publisher key as "Authorization: Bearer <key>".');
    }
  };
}
