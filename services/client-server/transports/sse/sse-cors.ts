/** CORS for `GET /v1/sse/*` (PROTOCOL.md, Browsers): `*`, or the request's origin when listed. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*' };
  if (origin !== undefined && allowed.includes(origin)) return { 'access-control-allow-origin': origin, vary: 'Origin' };
  return {};
}
