import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { connect, type EventRelayClient, type StateChange } from '../../sdk/src/node.js';
import { freePort } from '../../tools/ports.js';
import { FakeSocket } from './fake-socket.js';

// Node 20 has no global WebSocket: these run the Node entry's `ws` transport against real sockets.
const fast = { backoff: { baseMs: 1, maxMs: 1, random: () => 0 }, pingIntervalMs: 0 };
const clients: EventRelayClient[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r).closeAllConnections())));
});

function start(url: string, options: Parameters<typeof connect>[1] = {}): EventRelayClient {
  const client = connect(url, { ...fast, ...options });
  clients.push(client);
  return client;
}

const next = (client: EventRelayClient, state: StateChange['state']) =>
  new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === state && resolve(s)));

/** An HTTP server that answers every upgrade with `status` and a PROTOCOL.md error body. */
async function refusingServer(status: number, code: string, message: string): Promise<string> {
  const server = createServer();
  server.on('upgrade', (_req, socket) => {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the ws transport (Node 20)', () => {
  test('a closed port is reported as connection refused (ECONNREFUSED), and retried', async () => {
    const client = start(`http://127.0.0.1:${await freePort()}`);
    const change = await next(client, 'reconnecting');
    expect(change.reason).toMatch(/connection refused.*ECONNREFUSED/);
    expect(change.closeCode).toBe(1006);
  });

  test('an upgrade refused with 404 stops the client with the status and the server code and message', async () => {
    const client = start(await refusingServer(404, 'not_found', 'Route GET:/v1/ws not found'));
    const closed = await next(client, 'closed');
    expect(closed.error).toMatchObject({ code: 'not_found', message: 'Route GET:/v1/ws not found', status: 404 });
  });

  test('an upgrade refused with 401 stops a client without getToken with the server reason, not SDK jargon', async () => {
    const client = start(await refusingServer(401, 'unauthorized', 'The subscriber token was rejected: token expired.'), { token: 'old' });
    const closed = await next(client, 'closed');
    expect(closed.error).toMatchObject({ code: 'unauthorized', message: 'The subscriber token was rejected: token expired.', closeCode: 4001, status: 401 });
  });
});

describe('the Node entry', () => {
  test('uses the global WebSocket where Node has one (22+) instead of loading ws', async () => {
    const opened: string[] = [];
    const global = globalThis as { WebSocket?: unknown };
    const before = global.WebSocket;
    global.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url);
        opened.push(url);
      }
    };
    try {
      start('http://relay.test:8081', { token: 't' });
      await new Promise((r) => setTimeout(r, 10));
      expect(opened).toEqual(['ws://relay.test:8081/v1/ws?token=t']);
    } finally {
      global.WebSocket = before;
    }
  });
});
