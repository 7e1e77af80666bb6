import { afterEach, describe, expect, test } from 'vitest';
import { connect, EventRelayError, type EventRelayClient, type RelayErrorInfo } from '../../sdk/src/index.js';
import { FakeServer, tick } from './fake-socket.js';

// The server does not implement v1.1 yet: these play its side with the exact PROTOCOL.md v1.1 messages.
const fast = { backoff: { baseMs: 1, maxMs: 1, random: () => 0 }, pingIntervalMs: 0 };
const clients: EventRelayClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function start(server: FakeServer): EventRelayClient {
  const client = connect('http://relay.test:8081', { ...fast, socketFactory: server.factory });
  clients.push(client);
  return client;
}

const publishes = (sent: Record<string, unknown>[]) => sent.filter((m) => m.type === 'publish');

describe('publishing over the WebSocket', () => {
  test('a publish sends the PROTOCOL.md message and resolves with the published reply of its ref', async () => {
    const server = new FakeServer();
    const client = start(server);
    const socket = await server.attempt(0);
    socket.accept();
    const result = client.publish('room:1', { text: 'hi' }, { ref: 'c1', idempotencyKey: 'k-1' });
    expect(socket.sent).toEqual([{ type: 'publish', channel: 'room:1', data: { text: 'hi' }, ref: 'c1', idempotencyKey: 'k-1' }]);
    socket.reply({ type: 'published', channel: 'room:1', id: '1732450000000-0', ref: 'c1' });
    await expect(result).resolves.toEqual({ channel: 'room:1', id: '1732450000000-0', ref: 'c1' });
  });

  test('replies are matched by ref, whatever order they come in', async () => {
    const server = new FakeServer();
    const client = start(server);
    const socket = await server.attempt(0);
    socket.accept();
    const first = client.publish('room:1', 1);
    const second = client.publish('room:1', 2);
    const [a, b] = publishes(socket.sent).map((m) => m.ref as string);
    expect(a).not.toBe(b);
    socket.reply({ type: 'published', channel: 'room:1', id: '2-0', ref: b });
    socket.reply({ type: 'published', channel: 'room:1', id: '1-0', ref: a });
    expect((await first).id).toBe('1-0');
    expect((await second).id).toBe('2-0');
  });

  test('a refused publish rejects with the server code, and leaves the subscription of that channel alone', async () => {
    const server = new FakeServer();
    const client = start(server);
    const errors: RelayErrorInfo[] = [];
    const got: string[] = [];
    client.subscribe('room:1', (e) => got.push(e.id), { onError: (e) => errors.push(e) });
    const socket = await server.attempt(0);
    socket.accept();
    const result = client.publish('room:1', { big: true }, { ref: 'c9' });
    socket.reply({ type: 'error', code: 'forbidden', message: 'Your token does not allow publishing to this channel.', channel: 'room:1', ref: 'c9' });
    await expect(result).rejects.toMatchObject({ name: 'EventRelayError', code: 'forbidden', channel: 'room:1', ref: 'c9' });
    socket.reply({ type: 'subscribed', channel: 'room:1', recovered: true });
    socket.reply({ type: 'event', channel: 'room:1', id: '3-0', data: {}, ts: 1 });
    expect(got).toEqual(['3-0']);
    expect(errors).toEqual([]);
  });

  test('a publish made before the connection opens is sent once it opens, after the subscribes', async () => {
    const server = new FakeServer();
    const client = start(server);
    client.subscribe('room:1', () => {});
    const result = client.publish('room:1', 'early', { ref: 'e1' });
    const socket = await server.attempt(0);
    expect(socket.sent).toEqual([]);
    socket.accept();
    expect(socket.sent).toEqual([
      { type: 'subscribe', channel: 'room:1' },
      { type: 'publish', channel: 'room:1', data: 'early', ref: 'e1' },
    ]);
    socket.reply({ type: 'published', channel: 'room:1', id: '5-0', ref: 'e1' });
    expect((await result).id).toBe('5-0');
  });

  test('a connection lost before the answer rejects a publish without an idempotency key with connection_lost', async () => {
    const server = new FakeServer();
    const client = start(server);
    const socket = await server.attempt(0);
    socket.accept();
    const result = client.publish('room:1', 1);
    socket.drop(1006);
    await expect(result).rejects.toMatchObject({ code: 'connection_lost' });
    (await server.attempt(1)).accept();
    expect(publishes(server.sockets[1]!.sent)).toEqual([]);
  });

  test('a publish with an idempotency key is resent after a reconnect, and resolves with that answer', async () => {
    const server = new FakeServer();
    const client = start(server);
    const first = await server.attempt(0);
    first.accept();
    const result = client.publish('room:1', 1, { ref: 'r1', idempotencyKey: 'k-7' });
    first.drop(1001);
    const second = await server.attempt(1);
    second.accept();
    expect(publishes(second.sent)).toEqual([{ type: 'publish', channel: 'room:1', data: 1, ref: 'r1', idempotencyKey: 'k-7' }]);
    second.reply({ type: 'published', channel: 'room:1', id: '9-0', ref: 'r1' });
    expect((await result).id).toBe('9-0');
  });

  test('bad input fails at the call with a code and sends nothing', async () => {
    const server = new FakeServer();
    const client = start(server);
    const socket = await server.attempt(0);
    socket.accept();
    await expect(client.publish('no spaces', 1)).rejects.toMatchObject({ code: 'invalid_channel' });
    await expect(client.publish('room:1', 1, { ref: 'x'.repeat(65) })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(client.publish('room:1', undefined)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(client.publish('room:1', 1, { idempotencyKey: 'has space' })).rejects.toMatchObject({ code: 'invalid_request' });
    client.publish('room:1', 1, { ref: 'same' }).catch(() => {});
    await expect(client.publish('room:1', 2, { ref: 'same' })).rejects.toThrow(EventRelayError);
    expect(publishes(socket.sent)).toHaveLength(1);
  });

  test('close() rejects the publishes still waiting with closed', async () => {
    const server = new FakeServer();
    const client = start(server);
    const result = client.publish('room:1', 1);
    await tick();
    client.close();
    await expect(result).rejects.toMatchObject({ code: 'closed' });
    await expect(client.publish('room:1', 1)).rejects.toMatchObject({ code: 'closed' });
  });
});
