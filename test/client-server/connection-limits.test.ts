import { request, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { CloseCode } from '../../services/protocol/close-codes.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

const servers: ClientFixture[] = [];
const sockets: TestSocket[] = [];
const streams: TestEventStream[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  streams.splice(0).forEach((s) => s.close());
  for (const server of servers.splice(0)) await server.close();
});

async function server(env: Record<string, string> = {}): Promise<ClientFixture> {
  const s = await startClientServer(env);
  servers.push(s);
  return s;
}

async function connect(s: ClientFixture): Promise<TestSocket> {
  const socket = await TestSocket.open(s.wsUrl, { token: s.token(['*']) });
  sockets.push(socket);
  return socket;
}

async function refusal(s: ClientFixture): Promise<{ status: number; body: string }> {
  const err = (await connect(s).then(
    () => undefined,
    (e: unknown) => e,
  )) as { status?: number; body?: string } | undefined;
  expect(err, 'the upgrade should have been refused').toBeDefined();
  return { status: err!.status ?? 0, body: err!.body ?? '' };
}

async function sse(s: ClientFixture, channel = 'news'): Promise<TestEventStream> {
  const stream = await TestEventStream.open(`${s.httpUrl}/v1/sse/${channel}?token=${s.token(['*'])}`);
  streams.push(stream);
  return stream;
}

/** The HTTP answer to a bare upgrade request, with its headers (ws's client does not expose them). */
function upgradeAnswer(url: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws:/, 'http:'), {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.once('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.once('error', reject);
    req.end();
  });
}

/** Waits until the server has given a slot back (closing is asynchronous on both ends). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('frame size (MAX_FRAME_BYTES)', () => {
  test('defaults to MAX_EVENT_BYTES + 16 KiB (PROTOCOL.md v1.1), and a bigger frame closes the connection with 1009 while others go on', async () => {
    const s = await server();
    expect(s.config.maxFrameBytes).toBe(64 * 1024 + 16 * 1024);
    const bystander = await connect(s);
    const socket = await connect(s);
    socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(80 * 1024) }));
    expect(await socket.waitClosed()).toBe(CloseCode.tooBig);
    bystander.send({ type: 'ping' });
    expect(await bystander.next()).toEqual({ type: 'pong' });
  });

  test('is configurable', async () => {
    const s = await server({ MAX_FRAME_BYTES: '512' });
    const socket = await connect(s);
    socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(600) }));
    expect(await socket.waitClosed()).toBe(CloseCode.tooBig);
  });
});

describe('subscriptions per connection (MAX_SUBSCRIPTIONS_PER_CONNECTION)', () => {
  test('defaults to 1000', async () => {
    expect((await server()).config.maxSubscriptionsPerConnection).toBe(1000);
  });

  test('one subscribe over the limit is answered invalid_request with its channel, and the connection stays open', async () => {
    const s = await server({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' });
    const socket = await connect(s);
    for (const channel of ['a', 'b', 'c']) expect(await socket.subscribe(channel)).toMatchObject({ type: 'subscribed' });
    expect(await socket.subscribe('d')).toMatchObject({ type: 'error', code: 'invalid_request', channel: 'd' });
    socket.send({ type: 'unsubscribe', channel: 'a' });
    await socket.next((m) => m.type === 'unsubscribed');
    expect(await socket.subscribe('d')).toMatchObject({ type: 'subscribed', channel: 'd' });
  });
});

describe('connections per IP (MAX_CONNECTIONS_PER_IP)', () => {
  test('defaults to 1000', async () => {
    expect((await server()).config.maxConnectionsPerIp).toBe(1000);
  });

  test('a WebSocket upgrade over the limit is refused with 429 rate_limited and Retry-After', async () => {
    const s = await server({ MAX_CONNECTIONS_PER_IP: '2' });
    await connect(s);
    await connect(s);
    const refused = await refusal(s);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.code).toBe('rate_limited');
    const raw = await upgradeAnswer(`${s.wsUrl}?token=${s.token(['*'])}`);
    expect(raw.status).toBe(429);
    expect(raw.headers['retry-after']).toBe('5');
  });

  test('an SSE stream counts against the same limit and is refused with 429 rate_limited', async () => {
    const s = await server({ MAX_CONNECTIONS_PER_IP: '2' });
    await connect(s);
    expect((await sse(s)).status).toBe(200);
    const refused = await sse(s);
    expect(refused.status).toBe(429);
    expect(refused.response.headers['retry-after']).toBe('5');
    expect(JSON.parse(await refused.body()).error.code).toBe('rate_limited');
  });

  test('closed connections and refused attempts give their slots back', async () => {
    const s = await server({ MAX_CONNECTIONS_PER_IP: '2' });
    const first = await connect(s);
    const stream = await sse(s);
    for (let i = 0; i < 5; i++) expect((await refusal(s)).status).toBe(429);
    expect(s.app.clientRelay.connectionsPerIp.count('127.0.0.1')).toBe(2);
    first.close();
    stream.close();
    await until(() => s.app.clientRelay.connectionsPerIp.count('127.0.0.1') === 0);
    await connect(s);
    await connect(s);
    expect(s.app.clientRelay.connectionsPerIp.addresses).toBe(1);
  });

  test('an upgrade refused for another reason does not hold a slot', async () => {
    const s = await server({ MAX_CONNECTIONS_PER_IP: '1' });
    const bad = await TestSocket.open(s.wsUrl, { token: 'not-a-jwt' }).catch((e: { status: number }) => e);
    expect((bad as { status: number }).status).toBe(401);
    await until(() => s.app.clientRelay.connectionsPerIp.count('127.0.0.1') === 0);
    await connect(s);
  });
});

describe('inbound messages per connection (MAX_CLIENT_MESSAGES_PER_SECOND)', () => {
  test('defaults to 100 a second with bursts of 1000', async () => {
    const s = await server();
    expect(s.config.maxClientMessagesPerSecond).toBe(100);
    expect(s.config.clientMessagesBurst).toBe(1000);
  });

  test('a flood beyond the burst closes the connection with 4029, and another connection goes on', async () => {
    const s = await server({ MAX_CLIENT_MESSAGES_PER_SECOND: '1', CLIENT_MESSAGES_BURST: '10' });
    const bystander = await connect(s);
    const flooder = await connect(s);
    for (let i = 0; i < 50; i++) flooder.send({ type: 'subscribe', channel: `c${i}` });
    expect(await flooder.waitClosed()).toBe(CloseCode.rateLimited);
    // Only the burst was served before the close.
    expect(flooder.messages.filter((m) => m.type === 'subscribed').length).toBeLessThanOrEqual(11);
    bystander.send({ type: 'ping' });
    expect(await bystander.next()).toEqual({ type: 'pong' });
  });

  test('a client within its burst is served in full', async () => {
    const s = await server({ MAX_CLIENT_MESSAGES_PER_SECOND: '1', CLIENT_MESSAGES_BURST: '20' });
    const socket = await connect(s);
    for (let i = 0; i < 20; i++) socket.send({ type: 'ping' });
    for (let i = 0; i < 20; i++) expect(await socket.next()).toEqual({ type: 'pong' });
    expect(socket.closeCode).toBeUndefined();
  });
});
