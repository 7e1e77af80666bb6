import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import { TestSocket } from '../support/ws-client.js';
import { SECRET, startClientServer, type ClientFixture } from '../support/client-server.js';

let server: ClientFixture;
const sockets: TestSocket[] = [];
async function connect(channels: string[] = ['*'], options: { headers?: Record<string, string> } = {}): Promise<TestSocket> {
  const socket = await TestSocket.open(server.wsUrl, { token: server.token(channels), ...options });
  sockets.push(socket);
  return socket;
}

beforeEach(async () => {
  server = await startClientServer({ HISTORY_SIZE: '5' });
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await server.close();
});

describe('WebSocket subscriptions', () => {
  test('a subscriber receives events published after subscribed, in order, as the exact event message', async () => {
    const socket = await connect();
    expect(await socket.subscribe('news')).toEqual({ type: 'subscribed', channel: 'news', recovered: true });
    const ids = [await server.publish('news', { n: 1 }), await server.publish('news', 'two'), await server.publish('news', null)];
    const events = await socket.waitForEvents('news', 3);
    expect(events.map((e) => e.id)).toEqual(ids);
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, 'two', null]);
    expect(events[0]).toEqual({ type: 'event', channel: 'news', id: ids[0], data: { n: 1 }, ts: expect.any(Number) });
  });

  test('events of other channels are not delivered', async () => {
    const socket = await connect();
    await socket.subscribe('a');
    await server.publish('b', 1);
    await server.publish('a', 2);
    const [event] = await socket.waitForEvents('a', 1);
    expect(event!.data).toBe(2);
    expect(socket.events()).toHaveLength(1);
  });

  test('ping is answered with pong', async () => {
    const socket = await connect();
    socket.send({ type: 'ping' });
    expect(await socket.next()).toEqual({ type: 'pong' });
  });

  test('unsubscribe is answered and stops delivery', async () => {
    const socket = await connect();
    await socket.subscribe('news');
    socket.send({ type: 'unsubscribe', channel: 'news' });
    expect(await socket.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', channel: 'news' });
    await server.publish('news', 1);
    socket.send({ type: 'ping' });
    await socket.next((m) => m.type === 'pong');
    expect(socket.events()).toHaveLength(0);
    expect(server.app.clientRelay.hub.channelCount).toBe(0);
  });

  test('a resume with since delivers every missed event, then live ones, each once (recovered true)', async () => {
    const first = await server.publish('news', 1);
    const missed = [await server.publish('news', 2), await server.publish('news', 3)];
    const socket = await connect();
    expect(await socket.subscribe('news', first)).toEqual({ type: 'subscribed', channel: 'news', recovered: true });
    const live = await server.publish('news', 4);
    const events = await socket.waitForEvents('news', 3);
    expect(events.map((e) => e.id)).toEqual([...missed, live]);
  });

  test('a since that was trimmed from history answers recovered false and still delivers what is held', async () => {
    const gone = await server.publish('news', 0);
    const held: string[] = [];
    for (let i = 1; i <= 6; i++) held.push(await server.publish('news', i));
    const socket = await connect();
    expect(await socket.subscribe('news', gone)).toMatchObject({ type: 'subscribed', recovered: false });
    const events = await socket.waitForEvents('news', 5);
    expect(events.map((e) => e.id)).toEqual(held.slice(1));
  });

  test('a since that never existed answers recovered false', async () => {
    await server.publish('news', 1);
    const socket = await connect();
    expect(await socket.subscribe('news', '1-0')).toMatchObject({ recovered: false });
  });

  test('a resume while events are being published has no gap and no duplicate at the seam', async () => {
    await server.close();
    server = await startClientServer({ HISTORY_SIZE: '1000' });
    const since = await server.publish('seam', -1);
    const publishing = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        ids.push(await server.publish('seam', i));
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
      return ids;
    })();
    const socket = await connect();
    const reply = await socket.subscribe('seam', since);
    const ids = await publishing;
    const received = (await socket.waitForEvents('seam', 200)).map((e) => e.id);
    expect(reply).toMatchObject({ type: 'subscribed', recovered: true });
    expect(received).toEqual(ids);
  });
});

describe('WebSocket errors keep the connection open', () => {
  test.each([
    ['not JSON', 'nope{', 'invalid_json'],
    ['a JSON array', '[1]', 'invalid_json'],
    ['an unknown type', '{"type":"dance"}', 'invalid_request'],
    ['a subscribe without channel', '{"type":"subscribe"}', 'invalid_request'],
    ['a bad channel name', '{"type":"subscribe","channel":"bad channel!"}', 'invalid_channel'],
    ['a since of the wrong shape', '{"type":"subscribe","channel":"news","since":"yesterday"}', 'invalid_request'],
  ])('%s is answered with %s', async (_name, frame, code) => {
    const socket = await connect();
    socket.send(frame);
    const error = await socket.next();
    expect(error).toMatchObject({ type: 'error', code });
    expect(typeof error.message).toBe('string');
    socket.send({ type: 'ping' });
    expect(await socket.next()).toEqual({ type: 'pong' });
  });

  test('errors about a channel carry the channel', async () => {
    const socket = await connect(['allowed']);
    expect(await socket.subscribe('bad channel!')).toMatchObject({ code: 'invalid_channel', channel: 'bad channel!' });
    expect(await socket.subscribe('secret')).toMatchObject({ code: 'forbidden', channel: 'secret' });
  });

  test('a binary frame is answered with invalid_json', async () => {
    const socket = await connect();
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'invalid_json' });
  });

  test('subscribing twice is already_subscribed and the first subscription goes on', async () => {
    const socket = await connect();
    await socket.subscribe('news');
    expect(await socket.subscribe('news')).toMatchObject({ type: 'error', code: 'already_subscribed', channel: 'news' });
    await server.publish('news', 1);
    expect(await socket.waitForEvents('news', 1)).toHaveLength(1);
  });

  test('the check order is shape, channel, permission, duplicate', async () => {
    const socket = await connect(['news']);
    await socket.subscribe('news');
    socket.send({ type: 'subscribe', channel: 'bad channel!', since: 'x' });
    expect(await socket.next()).toMatchObject({ code: 'invalid_request' });
    socket.send({ type: 'subscribe', channel: 'bad channel!' });
    expect(await socket.next()).toMatchObject({ code: 'invalid_channel' });
    expect(await socket.subscribe('other')).toMatchObject({ code: 'forbidden' });
    expect(await socket.subscribe('news')).toMatchObject({ code: 'already_subscribed' });
  });

  test('a frame over the size limit closes with 1009', async () => {
    const socket = await connect();
    socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(server.config.maxFrameBytes) }));
    expect(await socket.waitClosed()).toBe(1009);
  });

  test('one client sending garbage does not disturb another subscriber', async () => {
    const good = await connect();
    await good.subscribe('news');
    const bad = await connect();
    for (let i = 0; i < 50; i++) bad.send('{{{');
    await server.publish('news', 'still here');
    expect((await good.waitForEvents('news', 1))[0]!.data).toBe('still here');
  });
});

describe('WebSocket authentication', () => {
  test('a connection without a token is refused with 401', async () => {
    await expect(TestSocket.open(server.wsUrl)).rejects.toMatchObject({ status: 401 });
  });

  test('a token signed with another secret is refused with 401', async () => {
    const forged = signJwt('another-secret-another-secret-another', { channels: ['*'] });
    await expect(TestSocket.open(server.wsUrl, { token: forged })).rejects.toMatchObject({ status: 401 });
  });

  test('a token with alg none is refused with 401', async () => {
    const none = signJwt(SECRET, { channels: ['*'] }, { alg: 'none', typ: 'JWT' });
    await expect(TestSocket.open(server.wsUrl, { token: none })).rejects.toMatchObject({ status: 401 });
  });

  test('an expired token is refused with 401', async () => {
    const expired = signJwt(SECRET, { channels: ['*'], exp: Math.floor(Date.now() / 1000) - 10 });
    await expect(TestSocket.open(server.wsUrl, { token: expired })).rejects.toMatchObject({ status: 401 });
  });

  test('the Authorization header wins over ?token=', async () => {
    const header = server.token(['from-header']);
    const socket = await TestSocket.open(`${server.wsUrl}?token=${server.token(['from-query'])}`, { headers: { authorization: `Bearer ${header}` } });
    sockets.push(socket);
    expect(await socket.subscribe('from-header')).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe('from-query')).toMatchObject({ code: 'forbidden' });
  });

  test('a token without a channels claim allows no channel', async () => {
    const socket = await TestSocket.open(server.wsUrl, { token: signJwt(SECRET, { sub: 'x' }) });
    sockets.push(socket);
    expect(await socket.subscribe('news')).toMatchObject({ code: 'forbidden' });
  });

  test('channel patterns: * matches any run of characters', async () => {
    const socket = await connect(['orders:*']);
    expect(await socket.subscribe('orders:eu:1')).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe('orders')).toMatchObject({ code: 'forbidden' });
  });

  test('a connection is closed with 4001 when its token expires', async () => {
    const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*'], { ttlSeconds: 1 }) });
    sockets.push(socket);
    await socket.subscribe('news');
    expect(await socket.waitClosed(4000)).toBe(4001);
  });

  test('a WebSocket from an origin not allowed is refused with 403', async () => {
    await server.close();
    server = await startClientServer({ ALLOWED_ORIGINS: 'https://app.example.com' });
    await expect(TestSocket.open(server.wsUrl, { token: server.token(['*']), headers: { origin: 'https://evil.example.com' } })).rejects.toMatchObject({ status: 403 });
    const ok = await TestSocket.open(server.wsUrl, { token: server.token(['*']), headers: { origin: 'https://app.example.com' } });
    sockets.push(ok);
    expect(await ok.subscribe('news')).toMatchObject({ type: 'subscribed' });
  });
});

describe('draining', () => {
  test('drain closes open sockets with 1001, readiness answers 503 and new connections are refused', async () => {
    const socket = await connect();
    await socket.subscribe('news');
    const drained = server.app.clientRelay.drain(100);
    expect(await socket.waitClosed()).toBe(1001);
    await drained;
    const ready = await fetch(`${server.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).error.code).toBe('unavailable');
    await expect(TestSocket.open(server.wsUrl, { token: server.token(['*']) })).rejects.toMatchObject({ status: 503 });
  });

  test('drain spreads closes over the window', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => connect()));
    const started = Date.now();
    const closedAt: number[] = [];
    all.forEach((s) => s.ws.on('close', () => closedAt.push(Date.now() - started)));
    await server.app.clientRelay.drain(500);
    await Promise.all(all.map((s) => s.waitClosed()));
    closedAt.sort((a, b) => a - b);
    // Not all at once: the last close comes well after the first.
    expect(closedAt.at(-1)! - closedAt[0]!).toBeGreaterThan(200);
  });
});

describe('frames sent in one breath', () => {
  test('subscribe then unsubscribe before the subscribe finished are answered in order, and no event follows', async () => {
    const since = await server.publish('news', 0);
    const socket = await connect();
    socket.send({ type: 'subscribe', channel: 'news', since });
    socket.send({ type: 'unsubscribe', channel: 'news' });
    expect(await socket.next()).toMatchObject({ type: 'subscribed', channel: 'news' });
    expect(await socket.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', channel: 'news' });
    await server.publish('news', 1);
    socket.send({ type: 'ping' });
    await socket.next((m) => m.type === 'pong');
    expect(socket.events('news')).toHaveLength(0);
  });

  test('unsubscribe then subscribe again to the same channel keeps delivering', async () => {
    const socket = await connect();
    await socket.subscribe('news');
    socket.send({ type: 'unsubscribe', channel: 'news' });
    socket.send({ type: 'subscribe', channel: 'news' });
    await socket.next((m) => m.type === 'unsubscribed');
    expect(await socket.next((m) => m.type === 'subscribed' || m.type === 'error')).toMatchObject({ type: 'subscribed' });
    const id = await server.publish('news', 'again');
    expect((await socket.waitForEvents('news', 1))[0]!.id).toBe(id);
  });
});
