import { afterEach, beforeEach, expect, test } from 'vitest';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

let server: ClientFixture;
beforeEach(async () => {
  server = await startClientServer({ MAX_BUFFERED_BYTES: '262144' });
});
afterEach(async () => server.close());

test('a subscriber that stops reading is closed with 4008 and does not slow the others', async () => {
  const token = server.token(['*']);
  const slow = await TestSocket.open(server.wsUrl, { token });
  const fast = await TestSocket.open(server.wsUrl, { token });
  await slow.subscribe('firehose');
  await fast.subscribe('firehose');
  // Stop reading: the kernel buffers fill, then the server's unsent buffer grows past the limit.
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const payload = 'x'.repeat(32 * 1024);
  for (let i = 0; i < 400; i++) {
    await server.publish('firehose', { i, payload });
    // Paced, because the fast client reads in this same process: it must get turns to read.
    await new Promise((r) => setTimeout(r, 2));
  }
  expect((await fast.waitForEvents('firehose', 400, 20_000)).length).toBe(400);
  // Reading again, the slow client drains what was queued and then sees the close.
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  expect(await slow.waitClosed(10_000)).toBe(4008);
  expect(slow.events('firehose').length).toBeLessThan(400);
  const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
  expect(metrics).toMatch(/eventrelay_slow_consumer_disconnects_total 1/);
  fast.close();
}, 40_000);
