import { afterEach, describe, expect, test } from 'vitest';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

let server: ClientFixture | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['0', '20'])('WRITE_DELAY_MS=%s', (delay) => {
  test('events of many channels arrive complete and in order, and a reply asked for after them comes after them', async () => {
    server = await startClientServer({ WRITE_DELAY_MS: delay });
    const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*']) });
    const channels = ['c0', 'c1', 'c2', 'c3', 'c4'];
    for (const channel of channels) await socket.subscribe(channel);
    // One publish call delivers all of these in one turn; then more in later turns.
    await server.engine.bus.publish(Array.from({ length: 100 }, (_, i) => ({ channel: channels[i % 5]!, data: JSON.stringify({ i }), ts: Date.now() })));
    for (let i = 100; i < 150; i++) await server.publish(channels[i % 5]!, { i });
    socket.send({ type: 'unsubscribe', channel: 'c0' });
    await socket.next((m) => m.type === 'unsubscribed');
    for (const channel of channels) {
      const got = (await socket.waitForEvents(channel, 30)).map((m) => (m.data as { i: number }).i);
      expect(got).toEqual(Array.from({ length: 30 }, (_, k) => k * 5 + channels.indexOf(channel)));
    }
    const unsubscribedAt = socket.messages.findIndex((m) => m.type === 'unsubscribed');
    const lastC0 = socket.messages.findLastIndex((m) => m.type === 'event' && m.channel === 'c0');
    expect(unsubscribedAt).toBeGreaterThan(lastC0);
    socket.close();
  });

  test('a burst of more than MAX_BUFFERED_BYTES in one turn, to a socket that reads, is not cut as slow', async () => {
    server = await startClientServer({ WRITE_DELAY_MS: delay, MAX_BUFFERED_BYTES: '4096' });
    const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*']) });
    await socket.subscribe('burst');
    const payload = 'x'.repeat(300);
    await server.engine.bus.publish(Array.from({ length: 40 }, (_, i) => ({ channel: 'burst', data: JSON.stringify({ i, payload }), ts: Date.now() })));
    expect((await socket.waitForEvents('burst', 40)).map((m) => (m.data as { i: number }).i)).toEqual([...Array(40).keys()]);
    expect(socket.closeCode).toBeUndefined();
    socket.close();
  });

  test('a subscriber that stops reading is still closed with 4008, and the others get everything', async () => {
    server = await startClientServer({ WRITE_DELAY_MS: delay, MAX_BUFFERED_BYTES: '262144' });
    const token = server.token(['*']);
    const slow = await TestSocket.open(server.wsUrl, { token });
    const fast = await TestSocket.open(server.wsUrl, { token });
    await slow.subscribe('firehose');
    await fast.subscribe('firehose');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const payload = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 300; i++) {
      await server.publish('firehose', { i, payload });
      await pause(2);
    }
    expect((await fast.waitForEvents('firehose', 300, 20_000)).length).toBe(300);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.waitClosed(10_000)).toBe(4008);
    expect(slow.events('firehose').length).toBeLessThan(300);
    fast.close();
  }, 40_000);
});

test('a reply is never sent ahead of events still being gathered for the same socket', async () => {
  server = await startClientServer({ WRITE_DELAY_MS: '1000' });
  const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*']) });
  await socket.subscribe('c0');
  for (let i = 0; i < 5; i++) await server.publish('c0', { i });
  socket.send({ type: 'ping' });
  await socket.next((m) => m.type === 'pong');
  expect(socket.messages.map((m) => m.type)).toEqual(['subscribed', 'event', 'event', 'event', 'event', 'event', 'pong']);
  socket.close();
});

test('a resume whose history is many times MAX_BUFFERED_BYTES reaches a client that reads it slowly, complete, without 4008', async () => {
  server = await startClientServer({ MAX_BUFFERED_BYTES: '262144', HISTORY_SIZE: '1000' });
  const token = server.token(['*']);
  const first = await server.publish('history', { i: 0 });
  const payload = 'y'.repeat(8 * 1024);
  for (let i = 1; i < 1000; i++) await server.publish('history', { i, payload });
  const socket = await TestSocket.open(server.wsUrl, { token });
  const tcp = (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.send({ type: 'subscribe', channel: 'history', since: first });
  // 8 MB of backlog: a client that stops reading for a while fills the kernel's buffers long before that.
  await socket.next((m) => m.type === 'subscribed');
  tcp.pause();
  await pause(300);
  tcp.resume();
  // Live events published meanwhile come after the backlog, in order.
  for (let i = 1000; i < 1010; i++) await server.publish('history', { i });
  const got = (await socket.waitForEvents('history', 1009, 30_000)).map((m) => (m.data as { i: number }).i);
  expect(got).toEqual(Array.from({ length: 1009 }, (_, k) => k + 1));
  expect(socket.closeCode).toBeUndefined();
  socket.close();
}, 60_000);
