import { createHmac } from 'node:crypto';
import { errors, jwtVerify, type JWSHeaderParameters } from 'jose';
import { ClaimError, claimsOf, type SubscriberClaims } from './claims.js';
import { SubscriberKeys } from './subscriber-keys.js';
import { TokenError } from './token-error.js';

export type { SubscriberClaims } from './claims.js';
export { TokenError } from './token-error.js';

/**
 * Subscriber JSON Web Tokens (PROTOCOL.md Auth, Tokens v1.1), verified by
 * jose. What this file decides on top of it: the `alg` must be one the
 * configured keys allow (SubscriberKeys.keyFor picks the key by `alg`, so an
 * HS256 token never meets a public key), `typ` is JWT when present, and the
 * claims this server acts on have their documented types (claims.ts).
 */

/**
 * Tolerated clock difference between the token issuer and this server. Zero,
 * like jsonwebtoken's default: `exp` means what it says, and issuers that
 * need slack can mint tokens that live a little longer.
 */
export const CLOCK_SKEW_SECONDS = 0;
/** Tokens are small; a huge one is an attack on the parser. */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Verifies a token against `keys` (a bare string is an HS256 secret) at
 * `nowMs`; rejects with a TokenError whose message is the reason.
 */
export async function verifySubscriberToken(token: string, keys: SubscriberKeys | string, nowMs: number): Promise<SubscriberClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('token too long');
  const checked = typeof keys === 'string' ? await SubscriberKeys.fromSecret(keys) : keys;
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, (header: JWSHeaderParameters) => {
      if (header.typ !== undefined && !/^(application\/)?jwt$/i.test(header.typ)) throw new TokenError('token type must be JWT');
      return checked.keyFor(header);
    }, {
      algorithms: checked.algorithms,
      issuer: checked.issuer,
      audience: checked.audience,
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
    return claimsOf(payload);
  } catch (err) {
    throw tokenError(err, checked.algorithms);
  }
}

/** jose's errors as the short reasons clients are shown (`The subscriber token was rejected: token expired.`). */
function tokenError(err: unknown, algorithms: string[]): unknown {
  if (err instanceof TokenError) return err;
  if (err instanceof ClaimError) return new TokenError(err.message);
  if (err instanceof errors.JWTExpired) return new TokenError('token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') return new TokenError('token not yet valid');
    if (err.reason === 'invalid') return new TokenError(`${err.claim} must be a number`);
    if (err.reason === 'missing') return new TokenError(`token has no ${err.claim} claim, and this server requires one`);
    if (err.claim === 'iss') return new TokenError('token issuer (iss) does not match the configured issuer');
    if (err.claim === 'aud') return new TokenError('token audience (aud) does not match the configured audience');
    return new TokenError(`bad ${err.claim} claim`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenError('bad token signature');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenError(algorithms.length ? `token algorithm must be ${algorithms.join(' or ')}` : 'no subscriber token key is configured');
  }
  if (err instanceof errors.JOSEError) return new TokenError('malformed token');
  return err;
}

export interface SignOptions {
  channels: string[];
  /** Lifetime in seconds; omitted: no exp claim. */
  ttlSeconds?: number;
  sub?: string;
  /** Patterns of channels the connection may publish to; omitted: no publish claim. */
  publish?: string[];
  /** Patterns of channels where it may join presence; omitted: no presence claim. */
  presence?: string[];
  /** Shown to others in presence; omitted: no info claim. */
  info?: Record<string, unknown>;
  iss?: string;
  aud?: string | string[];
  nowMs?: number;
}

/**
 * Mints an HS256 subscriber token (tests, bench, backends). Synchronous and
 * by hand, unlike the verifier: signing trusts its own input, and tests
 * need to sign headers jose would refuse to (`alg: none`).
 */
export function signSubscriberToken(secret: string, options: SignOptions): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const payload: Record<string, unknown> = { channels: options.channels, iat };
  if (options.ttlSeconds !== undefined) payload.exp = iat + options.ttlSeconds;
  for (const claim of ['sub', 'publish', 'presence', 'info', 'iss', 'aud'] as const) {
    if (options[claim] !== undefined) payload[claim] = options[claim];
  }
  return signJwt(secret, payload);
}

export function signJwt(secret: string, payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const head = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}
