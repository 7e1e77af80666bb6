import { WebSocket } from 'ws';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

let server: ClientFixture;
beforeEach(async () => {
  server = await startClientServer({ HEARTBEAT_SECONDS: '0.2' });
});
afterEach(async () => server.close());

test('a peer that stops answering pings is dropped after two heartbeats; one that answers stays', async () => {
  const token = server.token(['*']);
  const healthy = await TestSocket.open(server.wsUrl, { token });
  // autoPong off: this client never answers the server's pings, like a vanished peer.
  const silent = new WebSocket(`${server.wsUrl}?token=${token}`, { autoPong: false });
  let pings = 0;
  silent.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
  await new Promise((resolve) => silent.once('open', resolve));
  expect(await closed).toBe(1006); // terminated, no close frame
  expect(pings).toBeGreaterThanOrEqual(2);
  healthy.send({ type: 'ping' });
  expect(await healthy.next()).toEqual({ type: 'pong' });
  expect(healthy.closeCode).toBeUndefined();
  healthy.close();
}, 10_000);
