import { createHmac } from 'node:crypto';

/**
 * Mirrors the client-server's rule (SUBSCRIBER_JWT_SECRET must be at least
 * 32 characters: HS256 wants a 256-bit secret). The server refuses to start
 * with a shorter one, so a token minted with one could never be accepted.
 */
export const MIN_SECRET_LENGTH = 32;

export interface SubscriberTokenOptions {
  /** Channel patterns (`news`, `orders:*`). */
  channels: string[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
  sub?: string;
  /** PROTOCOL.md v1.1: patterns of channels the connection may publish to. */
  publish?: string[];
  /** PROTOCOL.md v1.1: patterns of channels where it may join presence (needs `sub`). */
  presence?: string[];
  nowMs?: number;
}

/** An HS256 subscriber JWT as PROTOCOL.md describes it (claims `channels`, `iat`, `exp`, optional `sub`, `publish`, `presence`). */
export function signSubscriberToken(secret: string, options: SubscriberTokenOptions): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const payload: Record<string, unknown> = { channels: options.channels, iat, exp: iat + options.ttlSeconds };
  if (options.sub !== undefined) payload.sub = options.sub;
  if (options.publish !== undefined) payload.publish = options.publish;
  if (options.presence !== undefined) payload.presence = options.presence;
  return signHs256(secret, payload);
}

export function signHs256(secret: string, payload: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}
