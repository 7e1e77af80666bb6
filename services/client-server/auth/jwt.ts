import { createHmac, timingSafeEqual } from 'node:crypto';
import { ChannelPatterns } from './channel-patterns.js';

/**
 * HS256 JSON Web Tokens, verified here in a few lines rather than through a
 * general JWT library, because the one decision that matters is made
 * explicitly: the algorithm is pinned to HS256. A header naming any other
 * algorithm (`none`, RS256 with the secret as a "public key") is rejected
 * before any signature is looked at.
 */

/**
 * Tolerated clock difference between the token issuer and this server. Zero,
 * like jsonwebtoken's default: `exp` means what it says, and issuers that
 * need slack can mint tokens that live a little longer.
 */
export const CLOCK_SKEW_SECONDS = 0;
/** Tokens are small; a huge one is an attack on the parser. */
export const MAX_TOKEN_LENGTH = 8 * 1024;

export interface SubscriberClaims {
  channels: ChannelPatterns;
  /** Expiry, seconds since the epoch, if the token has one. */
  exp?: number;
  sub?: string;
  /** PROTOCOL.md v1.1: channels the connection may publish to (absent: none). */
  publish?: ChannelPatterns;
  /** PROTOCOL.md v1.1: channels where it may join presence (absent: none). */
  presence?: ChannelPatterns;
  /** PROTOCOL.md v1.1: shown to others in presence (absent: {}). */
  info?: Record<string, unknown>;
}

/** PROTOCOL.md v1.1: `info` is a JSON object of at most 1 KiB. */
export const MAX_INFO_BYTES = 1024;

export class TokenError extends Error {
  override name = 'TokenError';
}

export function verifySubscriberToken(token: string, secret: string, nowMs: number): SubscriberClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed token');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header.alg !== 'HS256') throw new TokenError('token algorithm must be HS256');
  if (header.typ !== undefined && header.typ !== 'JWT') throw new TokenError('token type must be JWT');
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError('bad token signature');
  }
  const payload = decodeJson(payloadPart);
  const now = nowMs / 1000;
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number') throw new TokenError('exp must be a number');
    if (now >= payload.exp + CLOCK_SKEW_SECONDS) throw new TokenError('token expired');
  }
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new TokenError('nbf must be a number');
    if (now < payload.nbf - CLOCK_SKEW_SECONDS) throw new TokenError('token not yet valid');
  }
  const claims: SubscriberClaims = {
    channels: patternsClaim(payload, 'channels') ?? ChannelPatterns.NONE,
    exp: payload.exp as number | undefined,
    sub: typeof payload.sub === 'string' ? payload.sub : undefined,
  };
  const publish = patternsClaim(payload, 'publish');
  const presence = patternsClaim(payload, 'presence');
  if (publish) claims.publish = publish;
  if (presence) claims.presence = presence;
  if (payload.info !== undefined) {
    const { info } = payload;
    if (info === null || typeof info !== 'object' || Array.isArray(info) || Buffer.byteLength(JSON.stringify(info)) > MAX_INFO_BYTES) {
      throw new TokenError(`info claim must be a JSON object of at most ${MAX_INFO_BYTES} bytes`);
    }
    claims.info = info as Record<string, unknown>;
  }
  return claims;
}

function patternsClaim(payload: Record<string, unknown>, name: 'channels' | 'publish' | 'presence'): ChannelPatterns | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) throw new TokenError(`${name} claim must be a list of strings`);
  return new ChannelPatterns(value as string[]);
}

export interface SignOptions {
  channels: string[];
  /** Lifetime in seconds; omitted: no exp claim. */
  ttlSeconds?: number;
  sub?: string;
  nowMs?: number;
}

/** Mints an HS256 subscriber token (CLI `token`, tests, backends). */
export function signSubscriberToken(secret: string, options: SignOptions): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const payload: Record<string, unknown> = { channels: options.channels, iat };
  if (options.ttlSeconds !== undefined) payload.exp = iat + options.ttlSeconds;
  if (options.sub !== undefined) payload.sub = options.sub;
  return signJwt(secret, payload);
}

export function signJwt(secret: string, payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const head = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function decodeJson(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed token');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TokenError('malformed token');
  return value as Record<string, unknown>;
}
