import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Pusher's signatures (pusher/docs `library_auth_reference/auth-signatures.md`
 * and `rest-api.md`; pusher-http-node `lib/token.js`, `lib/requests.js`):
 * every one is a hex HMAC-SHA256 with the app secret.
 */

export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(Buffer.from(text, 'utf8')).digest('hex');
}

export function md5Hex(body: string): string {
  return createHash('md5').update(Buffer.from(body, 'utf8')).digest('hex');
}

/** Compares two hex signatures in constant time (a length difference is no secret). */
export function signaturesEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * What a channel subscription's `auth` signs: `<socket_id>:<channel>`, and
 * for presence `:<channel_data>` too, the exact string the client sent
 * (never re-serialized: the signer stringified it once).
 */
export function channelAuthText(socketId: string, channel: string, channelData?: string): string {
  return channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
}

/** What a `pusher:signin`'s `auth` signs. */
export function userAuthText(socketId: string, userData: string): string {
  return `${socketId}::user::${userData}`;
}

/** The `auth` an app's server returns: `<key>:<signature>`. */
export function signAuth(key: string, secret: string, text: string): string {
  return `${key}:${hmacHex(secret, text)}`;
}

/**
 * Whether `auth` is `<key>:<HMAC(secret, text)>` for this app: the key must
 * be this app's (a signature of another app's secret is no signature here),
 * the signature is compared in constant time.
 */
export function verifyAuth(app: { key: string; secret: string }, auth: unknown, text: string): boolean {
  if (typeof auth !== 'string' || !auth.startsWith(`${app.key}:`)) return false;
  return signaturesEqual(auth.slice(app.key.length + 1), hmacHex(app.secret, text));
}

/**
 * The HTTP API's string to sign: `METHOD\npath\nquery`, where the query is
 * every parameter but `auth_signature`, keys lower-cased and sorted, joined
 * as `k=v` with `&` and the values as decoded (pusher-http-node does not
 * encode them; other SDKs do, and decoding first makes both sign the same).
 */
export function apiStringToSign(method: string, path: string, params: Iterable<readonly [string, string]>): string {
  const pairs = [...params]
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .filter(([k]) => k !== 'auth_signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${method.toUpperCase()}\n${path}\n${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** `X-Pusher-Signature` of a webhook: the HMAC of the raw body. */
export function webhookSignature(secret: string, body: string): string {
  return hmacHex(secret, body);
}
