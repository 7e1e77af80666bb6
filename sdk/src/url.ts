/**
 * Addresses of the client-server's endpoints. A base URL may carry a path
 * prefix (a client-server behind a proxy at `https://example.com/relay`):
 * endpoints are appended to it, never resolved against the host's root.
 */

function parse(base: string): URL {
  // Relative bases ("/relay") resolve against the page in browsers.
  return new URL(base, (globalThis as { location?: { href: string } }).location?.href);
}

function appendPath(url: URL, path: string): void {
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
}

/**
 * The WebSocket URL for a client-server: `http(s)://host[:port][/prefix]`
 * becomes `ws(s)://host[:port][/prefix]/v1/ws`; a URL already ending in
 * `/v1/ws` is used as it is. The token goes in `?token=` (browsers cannot
 * send headers with a WebSocket).
 */
export function socketUrl(base: string, token: string | undefined): string {
  const url = parse(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (!url.pathname.endsWith('/v1/ws')) appendPath(url, '/v1/ws');
  if (token !== undefined) url.searchParams.set('token', token);
  return url.toString();
}

/**
 * The SSE URL for some channels: one channel uses `/v1/sse/{channel}` (every
 * server version has it), several use `/v1/sse?channels=a,b` (v1.1).
 */
export function streamUrl(base: string, channels: readonly string[], presence: boolean): string {
  const url = parse(base);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  url.pathname = url.pathname.replace(/\/v1\/(ws|sse)(\/.*)?$/, '');
  if (channels.length === 1) appendPath(url, `/v1/sse/${encodeURIComponent(channels[0]!)}`);
  else {
    appendPath(url, '/v1/sse');
    url.searchParams.set('channels', channels.join(','));
  }
  if (presence) url.searchParams.set('presence', 'true');
  return url.toString();
}
