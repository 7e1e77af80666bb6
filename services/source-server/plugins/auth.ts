import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/bearer.js';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { setLogSubject } from '../../runtime/http/request-log.js';
import { PublisherKeys, publisherScope } from './publisher-keys.js';

export { publisherScope };

/** Why a request's credentials were refused, as logged (never the key itself). */
export type AuthFailure = 'missing' | 'not-bearer' | 'unknown-key';

/** What a producer reads in the 401 body: how to send a key, or that the key sent is not one of ours. */
export const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing: 'Send a publisher key as Authorization: Bearer <key>.',
  'not-bearer': 'Send a publisher key as Authorization: Bearer <key>.',
  'unknown-key': 'The publisher key was rejected.',
};

/**
 * The idempotency scope of every request while AUTH_DISABLED=true: without
 * checked credentials there is no publisher identity to scope by, so keys are
 * shared by everyone per channel, as in v1. The `pk:` prefix keeps it apart
 * from every publisher key's scope (and from the client-server's scopes).
 */
export const AUTH_DISABLED_SCOPE = 'pk:auth-disabled';

/**
 * Publisher authentication (PROTOCOL.md, Auth), run as an `onRequest` hook
 * so that a request without a valid key is answered 401 before its body is
 * read. Keys are compared in constant time (PublisherKeys). With
 * `authDisabled` every request passes, even when keys are configured.
 */
export class PublisherAuth {
  private readonly keys: PublisherKeys | undefined;

  constructor(config: Pick<Config, 'authDisabled' | 'publisherKeys'>) {
    this.keys = config.authDisabled ? undefined : new PublisherKeys(config.publisherKeys);
  }

  /**
   * Throws 401 `unauthorized` unless the request carries a configured key;
   * logs the refusal at info with its reason. An accepted key's digest (its
   * idempotency scope) is the request's log subject.
   */
  check(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.keys) return;
    const header = request.headers.authorization;
    const key = bearerToken(header);
    const scope = key === undefined ? undefined : this.keys.scopeOf(key);
    if (scope !== undefined) {
      setLogSubject(request, scope);
      return;
    }
    const failure: AuthFailure = key === undefined ? (header === undefined ? 'missing' : 'not-bearer') : 'unknown-key';
    request.log.info({ reason: failure }, 'publisher credentials refused');
    reply.header('www-authenticate', 'Bearer');
    throw new RelayError('unauthorized', AUTH_MESSAGES[failure]);
  }

  /**
   * Whose idempotency keys a request's are (PROTOCOL.md v1.1: scoped per
   * publisher key and channel): a digest of its publisher key, so that
   * neither Redis nor its dumps ever hold the key. Only meaningful after `check`.
   */
  idempotencyScope(request: FastifyRequest): string {
    if (!this.keys) return AUTH_DISABLED_SCOPE;
    const key = bearerToken(request.headers.authorization) ?? '';
    // After `check` a remembered lookup: it accepted this key on this request.
    return this.keys.scopeOf(key) ?? publisherScope(key);
  }
}
