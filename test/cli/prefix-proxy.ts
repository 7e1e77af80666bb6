import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';

/**
 * A reverse proxy like an ingress that serves each service under a path
 * prefix (`/source/v1/...` → source-server `/v1/...`), HTTP and WebSocket
 * upgrades alike. Anything outside the prefixes is a 404.
 */
export async function startPrefixProxy(routes: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const route = (path: string): { target: URL; path: string } | undefined => {
    for (const [prefix, target] of Object.entries(routes)) {
      if (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`)) return { target: new URL(target), path: path.slice(prefix.length) || '/' };
    }
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    const found = route(req.url ?? '/');
    if (!found) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: `no route for ${req.url}` } }));
      return;
    }
    const upstream = request({ host: found.target.hostname, port: found.target.port, method: req.method, path: found.path, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    const found = route(req.url ?? '/');
    if (!found) return socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    const upstream = connect(Number(found.target.port), found.target.hostname, () => {
      const headers = Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]));
      upstream.write(`${req.method} ${found.path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}
