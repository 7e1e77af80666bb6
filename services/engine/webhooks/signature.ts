import { createHmac } from 'node:crypto';

/** The header receivers verify (PROTOCOL.md v1.1, Webhooks). */
export const SIGNATURE_HEADER = 'Eventrelay-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. `t` is the
 * attempt's own time, so a receiver can refuse replays of old attempts while
 * the body (and its `id`) stays the same on every retry.
 */
export function signatureHeader(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
