import { randomBytes } from 'node:crypto';
import { ChannelPatterns } from './channel-patterns.js';

/**
 * `info` is copied into every presence member list and join message of its
 * channels; 1 KiB (PROTOCOL.md, Tokens v1.1) holds a name, an avatar URL and
 * a few flags, and keeps a channel of 1,000 members under a megabyte.
 */
export const MAX_INFO_BYTES = 1024;

/** What a verified subscriber token allows (PROTOCOL.md Auth, and Tokens v1.1). */
export interface SubscriberClaims {
  /** Channels it may subscribe to. */
  channels: ChannelPatterns;
  /** Channels it may publish to over the WebSocket; none when the claim is absent. */
  publish: ChannelPatterns;
  /** Channels where it may join presence (together with a `sub`); none when the claim is absent. */
  presence: ChannelPatterns;
  /** Shown to others in presence; `{}` when the claim is absent. */
  info: Record<string, unknown>;
  /** Expiry, seconds since the epoch, if the token has one. */
  exp?: number;
  /** The user id: presence, `publisher`, disconnects. */
  sub?: string;
}

/** A claim that is present but not what PROTOCOL.md says it is; the token is then rejected like a bad one. */
export class ClaimError extends Error {
  override name = 'ClaimError';
}

/**
 * The claims of a payload whose signature, `exp`, `nbf`, `iss` and `aud`
 * were already checked. Every claim this server acts on is checked for its
 * type here: a wrong type is a token the issuer did not mean, not a default.
 */
export function claimsOf(payload: Record<string, unknown>): SubscriberClaims {
  const claims: SubscriberClaims = {
    channels: patternsClaim(payload, 'channels'),
    publish: patternsClaim(payload, 'publish'),
    presence: patternsClaim(payload, 'presence'),
    info: infoClaim(payload.info),
  };
  if (payload.exp !== undefined) claims.exp = payload.exp as number;
  if (payload.sub !== undefined) {
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new ClaimError('sub must be a non-empty string');
    claims.sub = payload.sub;
  }
  return claims;
}

/**
 * Compiled pattern lists by their JSON: thousands of connections usually
 * share a few tokens (or a few claim shapes), and each compiled list holds a
 * Set and RegExps. Bounded; cleared when full (recompiling is cheap).
 */
const compiledPatterns = new Map<string, ChannelPatterns>();
const MAX_COMPILED_PATTERN_LISTS = 10_000;

/** The `info` of every token without one: shared, so frozen. */
const NO_INFO: Record<string, unknown> = Object.freeze({});

function patternsClaim(payload: Record<string, unknown>, name: 'channels' | 'publish' | 'presence'): ChannelPatterns {
  const value = payload[name];
  if (value === undefined) return ChannelPatterns.NONE;
  if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) throw new ClaimError(`${name} claim must be a list of strings`);
  const key = JSON.stringify(value);
  let patterns = compiledPatterns.get(key);
  if (!patterns) {
    if (compiledPatterns.size >= MAX_COMPILED_PATTERN_LISTS) compiledPatterns.clear();
    patterns = new ChannelPatterns(value as string[]);
    compiledPatterns.set(key, patterns);
  }
  return patterns;
}

function infoClaim(value: unknown): Record<string, unknown> {
  if (value === undefined) return NO_INFO;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ClaimError('info claim must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_INFO_BYTES) throw new ClaimError(`info claim must be at most ${MAX_INFO_BYTES} bytes of JSON`);
  return value as Record<string, unknown>;
}

/**
 * AUTH_DISABLED: everything allowed, and a user id of its own per
 * connection so that presence works in the embedded mode (each tab is one
 * member). Random rather than counted, so that several client-servers
 * sharing a Redis with auth off do not hand out the same ids; 48 bits make
 * a collision among a million connections about one in 500.
 */
export function openAccessClaims(): SubscriberClaims {
  return {
    channels: ChannelPatterns.ALL,
    publish: ChannelPatterns.ALL,
    presence: ChannelPatterns.ALL,
    info: NO_INFO,
    sub: `anonymous-${randomBytes(6).toString('hex')}`,
  };
}
