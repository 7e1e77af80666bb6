import { afterEach, describe, expect, test } from 'vitest';
import { connect, EventRelayError, socketUrl, streamUrl, type EventRelayClient, type RelayErrorInfo, type RelayEvent, type StateChange, type SubscribedInfo } from '../../sdk/src/index.js';
import { FakeServer, tick } from './fake-socket.js';

// Zero delays and no jitter: the tests follow the protocol steps, never the clock.
const fast = { backoff: { baseMs: 1, maxMs: 1, random: () => 0 }, pingIntervalMs: 0 };
const clients: EventRelayClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function start(server: FakeServer, options: Parameters<typeof connect>[1] = {}): EventRelayClient {
  const client = connect('http://relay.test:8081', { ...fast, socketFactory: server.factory, ...options });
  clients.push(client);
  return client;
}

const event = (channel: string, id: string, data: unknown = {}) => ({ type: 'event', channel, id, data, ts: 1 });

describe('connecting and subscribing', () => {
  test('subscriptions made before the socket opens are sent once it opens', async () => {
    const server = new FakeServer();
    const client = start(server, { token: 't1' });
    client.subscribe('news', () => {});
    client.subscribe('orders:eu', () => {}, { since: '5-0' });
    const socket = await server.attempt(0);
    expect(socket.url).toBe('ws://relay.test:8081/v1/ws?token=t1');
    socket.accept();
    expect(socket.sent).toEqual([
      { type: 'subscribe', channel: 'news' },
      { type: 'subscribe', channel: 'orders:eu', since: '5-0' },
    ]);
  });

  test('events reach the handler of their channel with their data typed as given', async () => {
    const server = new FakeServer();
    const client = start(server);
    const got: RelayEvent<{ n: number }>[] = [];
    client.subscribe<{ n: number }>('news', (e) => got.push(e));
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'subscribed', channel: 'news', recovered: true });
    socket.reply(event('news', '1-0', { n: 1 }));
    socket.reply(event('other', '1-0', { n: 9 }));
    expect(got).toEqual([{ channel: 'news', id: '1-0', data: { n: 1 }, ts: 1 }]);
  });

  test('unsubscribing tells the server and drops events still in flight', async () => {
    const server = new FakeServer();
    const client = start(server);
    const got: string[] = [];
    const unsubscribe = client.subscribe('news', (e) => got.push(e.id));
    const socket = await server.attempt(0);
    socket.accept();
    unsubscribe();
    socket.reply(event('news', '1-0'));
    expect(socket.sent.at(-1)).toEqual({ type: 'unsubscribe', channel: 'news' });
    expect(got).toEqual([]);
  });

  test('a bad channel name or a second subscribe to one channel fails at the call with a code', () => {
    const client = start(new FakeServer());
    expect(() => client.subscribe('no spaces', () => {})).toThrowError(expect.objectContaining({ code: 'invalid_channel' }));
    client.subscribe('news', () => {});
    expect(() => client.subscribe('news', () => {})).toThrow(EventRelayError);
  });

  test('a subscription the server forbids is reported to its onError and dropped', async () => {
    const server = new FakeServer();
    const client = start(server);
    const errors: RelayErrorInfo[] = [];
    client.subscribe('secret', () => {}, { onError: (e) => errors.push(e) });
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'error', code: 'forbidden', message: 'no', channel: 'secret' });
    expect(errors.map((e) => e.code)).toEqual(['forbidden']);
    expect(client.positions).toEqual({});
  });

  test('a subscribe the server cannot serve right now (unavailable) is sent again after a backoff, with its since, until subscribed', async () => {
    const server = new FakeServer();
    const client = start(server);
    const subscribed: SubscribedInfo[] = [];
    client.subscribe('news', () => {}, { since: '7-0', onSubscribed: (info) => subscribed.push(info) });
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'error', code: 'unavailable', message: 'Redis is not back yet', channel: 'news' });
    await new Promise((r) => setTimeout(r, 20));
    socket.reply({ type: 'error', code: 'unavailable', message: 'still not', channel: 'news' });
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.sent).toEqual([
      { type: 'subscribe', channel: 'news', since: '7-0' },
      { type: 'subscribe', channel: 'news', since: '7-0' },
      { type: 'subscribe', channel: 'news', since: '7-0' },
    ]);
    socket.reply({ type: 'subscribed', channel: 'news', recovered: true });
    expect(subscribed).toHaveLength(1);
    expect(client.positions).toEqual({ news: '7-0' });
  });

  test('an unsubscribe while a refused subscribe waits for its retry cancels the retry', async () => {
    const server = new FakeServer();
    const client = start(server);
    const unsubscribe = client.subscribe('news', () => {});
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'error', code: 'unavailable', message: 'later', channel: 'news' });
    unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.sent).toEqual([{ type: 'subscribe', channel: 'news' }, { type: 'unsubscribe', channel: 'news' }]);
  });

  test('http and https addresses become ws and wss on /v1/ws, with the token in the query', () => {
    expect(socketUrl('https://relay.example.com', 'a.b.c')).toBe('wss://relay.example.com/v1/ws?token=a.b.c');
    expect(socketUrl('ws://localhost:8081/v1/ws', undefined)).toBe('ws://localhost:8081/v1/ws');
  });

  test('a path prefix of the address is kept: /relay becomes /relay/v1/ws', () => {
    expect(socketUrl('https://example.com/relay', undefined)).toBe('wss://example.com/relay/v1/ws');
    expect(socketUrl('http://example.com/relay/', 't')).toBe('ws://example.com/relay/v1/ws?token=t');
    expect(streamUrl('https://example.com/relay', ['a', 'b:c'], true)).toBe('https://example.com/relay/v1/sse?channels=a%2Cb%3Ac&presence=true');
    expect(streamUrl('http://example.com/relay', ['news'], false)).toBe('http://example.com/relay/v1/sse/news');
  });
});

describe('reconnecting', () => {
  for (const code of [1001, 4008, 1006]) {
    test(`after close code ${code} it reconnects and resumes every channel after its last event`, async () => {
      const server = new FakeServer();
      const client = start(server);
      const got: string[] = [];
      client.subscribe('a', (e) => got.push(e.id));
      client.subscribe('b', (e) => got.push(e.id), { since: '3-0' });
      client.subscribe('c', (e) => got.push(e.id));
      const first = await server.attempt(0);
      first.accept();
      first.reply(event('a', '7-0'));
      first.reply(event('a', '8-1'));
      first.drop(code);
      const second = await server.attempt(1);
      second.accept();
      expect(second.sent).toEqual([
        { type: 'subscribe', channel: 'a', since: '8-1' },
        { type: 'subscribe', channel: 'b', since: '3-0' },
        { type: 'subscribe', channel: 'c' },
      ]);
      expect(got).toEqual(['7-0', '8-1']);
    });
  }

  test('recovered:false after a resume is surfaced to the subscription and to the client', async () => {
    const server = new FakeServer();
    const client = start(server);
    const perSubscription: SubscribedInfo[] = [];
    const perClient: SubscribedInfo[] = [];
    client.on('subscribed', (info) => perClient.push(info));
    client.subscribe('news', () => {}, { onSubscribed: (info) => perSubscription.push(info) });
    const first = await server.attempt(0);
    first.accept();
    first.reply({ type: 'subscribed', channel: 'news', recovered: true });
    first.reply(event('news', '4-0'));
    first.drop(1001);
    const second = await server.attempt(1);
    second.accept();
    second.reply({ type: 'subscribed', channel: 'news', recovered: false });
    expect(perSubscription).toEqual([
      { channel: 'news', recovered: true, resumed: false },
      { channel: 'news', recovered: false, resumed: true, since: '4-0' },
    ]);
    expect(perClient).toEqual(perSubscription);
  });

  test('close code 4001 fetches a fresh token with getToken, then reconnects with it', async () => {
    const server = new FakeServer();
    let issued = 0;
    start(server, { getToken: async () => `token-${++issued}` });
    const first = await server.attempt(0);
    expect(first.token).toBe('token-1');
    first.accept();
    // The server took the token (it answered), then closed: it expired meanwhile.
    first.reply({ type: 'pong' });
    first.drop(4001);
    const second = await server.attempt(1);
    expect(second.token).toBe('token-2');
  });

  test('a fresh token closed with 4001 before the server said anything (how it refuses a browser) stops instead of fetching another', async () => {
    const server = new FakeServer();
    let issued = 0;
    const client = start(server, { getToken: () => `bad-token-${++issued}` });
    const closed = new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    const socket = await server.attempt(0);
    socket.accept();
    socket.drop(4001, { reason: 'The subscriber token was rejected: bad token signature.' });
    expect((await closed).error).toEqual({ code: 'unauthorized', message: 'The subscriber token was rejected: bad token signature.', closeCode: 4001 });
    await tick();
    expect(server.sockets).toHaveLength(1);
    expect(issued).toBe(1);
  });

  test('a drain (1001) reuses the token: getToken is not called for it', async () => {
    const server = new FakeServer();
    let issued = 0;
    start(server, { getToken: () => `token-${++issued}` });
    const first = await server.attempt(0);
    first.accept();
    first.drop(1001);
    expect((await server.attempt(1)).token).toBe('token-1');
  });

  test('the connection states go connecting, open, reconnecting, open, closed', async () => {
    const server = new FakeServer();
    const client = start(server);
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    expect(client.state).toBe('connecting');
    (await server.attempt(0)).accept();
    (await server.attempt(0)).drop(4008);
    (await server.attempt(1)).accept();
    client.close();
    expect(states.map((s) => s.state)).toEqual(['open', 'reconnecting', 'open', 'closed']);
    expect(states[1]).toMatchObject({ closeCode: 4008, attempt: 1 });
  });
});

describe('stopping', () => {
  test('close code 1008 stops for good and reports forbidden', async () => {
    const server = new FakeServer();
    const client = start(server);
    const errors: RelayErrorInfo[] = [];
    client.on('error', (e) => errors.push(e));
    const socket = await server.attempt(0);
    socket.accept();
    socket.drop(1008);
    await tick();
    await tick();
    expect(client.state).toBe('closed');
    expect(errors).toEqual([expect.objectContaining({ code: 'forbidden', closeCode: 1008 })]);
    expect(server.sockets).toHaveLength(1);
  });

  test('close code 4001 without getToken stops and reports unauthorized with the server reason', async () => {
    const server = new FakeServer();
    const client = start(server, { token: 'expired' });
    const errors: RelayErrorInfo[] = [];
    client.on('error', (e) => errors.push(e));
    const socket = await server.attempt(0);
    socket.accept();
    socket.drop(4001, { reason: 'token expired' });
    await tick();
    expect(client.state).toBe('closed');
    expect(errors).toEqual([{ code: 'unauthorized', message: 'token expired', closeCode: 4001 }]);
    expect(server.sockets).toHaveLength(1);
  });

  test('close code 4003 (disconnected by the operator) stops for good with the reason, even with getToken', async () => {
    const server = new FakeServer();
    const client = start(server, { getToken: () => 'fresh' });
    const closed = new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    const socket = await server.attempt(0);
    socket.accept();
    socket.drop(4003, { reason: 'disconnected by operator' });
    expect((await closed).error).toEqual({ code: 'disconnected', message: 'disconnected by operator', closeCode: 4003 });
    await tick();
    expect(server.sockets).toHaveLength(1);
  });

  test('an upgrade refused with 404 stops with the status and the server code instead of retrying', async () => {
    const server = new FakeServer();
    const client = start(server);
    const closed = new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    (await server.attempt(0)).drop(1006, { status: 404, errorCode: 'not_found', reason: 'Route GET:/v1/ws not found' });
    expect(await closed).toMatchObject({ status: 404, error: { code: 'not_found', message: 'Route GET:/v1/ws not found', status: 404 } });
    await tick();
    expect(server.sockets).toHaveLength(1);
  });

  test('an upgrade refused with 503 (draining) is retried, and the state says why', async () => {
    const server = new FakeServer();
    const client = start(server);
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    (await server.attempt(0)).drop(1006, { status: 503, errorCode: 'unavailable', reason: 'Draining for shutdown' });
    await server.attempt(1);
    expect(states[0]).toMatchObject({ state: 'reconnecting', status: 503, reason: 'Draining for shutdown', attempt: 1 });
  });

  test('a token from getToken that the server refuses at once stops the client with the server reason', async () => {
    const server = new FakeServer();
    const client = start(server, { getToken: () => 'signed-with-the-wrong-secret' });
    const closed = new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    (await server.attempt(0)).drop(4001, { status: 401, reason: 'The subscriber token was rejected: bad token signature.' });
    expect((await closed).error).toMatchObject({ code: 'unauthorized', message: 'The subscriber token was rejected: bad token signature.' });
    expect(server.sockets).toHaveLength(1);
  });

  test('close() closes the socket and makes no further attempt', async () => {
    const server = new FakeServer();
    const client = start(server);
    const socket = await server.attempt(0);
    socket.accept();
    client.close();
    expect(socket.closedByClient).toBe(1000);
    await tick();
    expect(server.sockets).toHaveLength(1);
    expect(() => client.subscribe('news', () => {})).toThrowError(expect.objectContaining({ code: 'closed' }));
  });
});

describe('liveness', () => {
  test('a ping left unanswered replaces the connection and resumes', async () => {
    const server = new FakeServer();
    const client = start(server, { pingIntervalMs: 5, pongTimeoutMs: 5 });
    client.subscribe('news', () => {}, { since: '2-0' });
    const first = await server.attempt(0);
    first.accept();
    const second = await server.attempt(1);
    expect(first.sent.some((m) => m.type === 'ping')).toBe(true);
    expect(first.closedByClient).toBeDefined();
    second.accept();
    expect(second.sent).toEqual([{ type: 'subscribe', channel: 'news', since: '2-0' }]);
  });
});
