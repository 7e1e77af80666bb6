import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import { CloseCode } from '../../services/protocol/close-codes.js';
import { SECRET, startClientServer, type ClientFixture } from '../support/client-server.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * What the client-server logs at info: one line per closed WebSocket or SSE
 * connection (it stands for the upgrade or stream request too), one line per
 * other request, and credential refusals with their reason; never a token.
 */

const REDIS_PASSWORD = 'redis-password-never-logged';

let server: ClientFixture;
/** Log lines written while the fixture started (listening, no console assets), not by the test. */
let startup = 0;
const sockets: TestSocket[] = [];
const streams: TestEventStream[] = [];
beforeEach(async () => {
  server = await startClientServer({ REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:6399` });
  startup = server.logs.length;
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  streams.splice(0).forEach((s) => s.close());
  await server.close();
});

type Line = Record<string, unknown> & { level: number; msg: string };
const lines = (): Line[] => server.logs.slice(startup).map((l) => JSON.parse(l) as Line);
const info = () => lines().filter((l) => l.level >= 30);
const closeLines = () => lines().filter((l) => l.msg === 'connection closed');

async function openSocket(token: string): Promise<TestSocket> {
  const socket = await TestSocket.open(server.wsUrl, { token });
  sockets.push(socket);
  return socket;
}
async function openStream(path: string, token: string): Promise<TestEventStream> {
  const stream = await TestEventStream.open(`${server.httpUrl}${path}`, { authorization: `Bearer ${token}` });
  streams.push(stream);
  return stream;
}
/** The log lines written since `before` lines had been. */
const since = (before: number) => info().slice(before);

describe('closed connections', () => {
  test('a WebSocket the client closes is logged once at info: code, reason, duration, subject, messages in and out', async () => {
    const token = server.token(['*'], { sub: 'user-7' });
    const socket = await openSocket(token);
    await socket.subscribe('news');
    await server.publish('news', 1);
    await server.publish('news', 2);
    await socket.waitForEvents('news', 2);
    socket.ws.close(1000, 'bye');
    await expect.poll(() => closeLines().length).toBe(1);
    expect(info()).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'connection closed',
        transport: 'ws',
        by: 'peer',
        code: 1000,
        reason: 'bye',
        durationMs: expect.any(Number),
        subject: 'user-7',
        channels: 1,
        messagesIn: 1,
        messagesOut: 2,
      }),
    ]);
    expect(server.logs.join('')).not.toContain(token);
  });

  test('a WebSocket the server closes is logged with the code and reason it was sent', async () => {
    const socket = await openSocket(server.token(['*'], { sub: 'user-8' }));
    await socket.subscribe('news');
    await server.engine.control.send({ type: 'disconnect', user: 'user-8' });
    expect(await socket.waitClosed()).toBe(CloseCode.disconnected);
    await expect.poll(() => closeLines().length).toBe(1);
    expect(closeLines()[0]).toMatchObject({ transport: 'ws', by: 'server', code: CloseCode.disconnected, reason: 'disconnected by the operator', subject: 'user-8' });
    // The client's echo of the close frame is not a second close.
    await new Promise((r) => setTimeout(r, 100));
    expect(closeLines()).toHaveLength(1);
  });

  test('an SSE stream the client leaves is logged once, as a connection and not also as a request', async () => {
    const token = server.token(['*'], { sub: 'user-9' });
    const stream = await openStream('/v1/sse/news', token);
    await stream.waitFor(1);
    await server.publish('news', 1);
    await stream.waitFor(2);
    stream.close();
    await expect.poll(() => closeLines().length).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(info()).toEqual([
      expect.objectContaining({ msg: 'connection closed', transport: 'sse', by: 'peer', subject: 'user-9', channels: 1, messagesIn: 0, messagesOut: 1 }),
    ]);
    expect(server.logs.join('')).not.toContain(token);
  });

  test('an SSE stream the server ends is logged once with its code, not again when the response finishes', async () => {
    const stream = await openStream('/v1/sse/news', server.token(['*'], { sub: 'user-10' }));
    await stream.waitFor(1);
    await server.engine.control.send({ type: 'disconnect', user: 'user-10' });
    await expect.poll(() => stream.ended).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(closeLines()).toEqual([expect.objectContaining({ transport: 'sse', by: 'server', code: CloseCode.disconnected, subject: 'user-10' })]);
    // Besides the operator's audit line ('operator disconnect'), nothing: no request line for the stream.
    expect(info().map((l) => l.msg).sort()).toEqual(['connection closed', 'operator disconnect']);
  });
});

describe('refused subscribers', () => {
  const refusals = () => lines().filter((l) => l.msg === 'subscriber credentials refused');
  const cases: [name: string, token: string | undefined, reason: string][] = [
    ['missing', undefined, 'missing'],
    ['expired', signJwt(SECRET, { channels: ['*'], sub: 'late', iat: 1, exp: 2 }), 'token expired'],
    ['badly signed', signJwt('another-secret-another-secret-0123456', { channels: ['*'] }), 'bad token signature'],
    ['malformed', 'not.a.jwt', 'malformed token'],
  ];

  test.each(cases)('a %s token is logged at info with its reason, and its request once, without the token', async (_name, token, reason) => {
    const refused = await TestSocket.open(server.wsUrl, { token }).catch((err: { status: number }) => err);
    expect((refused as { status: number }).status).toBe(401);
    const stream = await TestEventStream.open(`${server.httpUrl}/v1/sse/news`, token ? { authorization: `Bearer ${token}` } : {});
    expect(stream.status).toBe(401);
    await stream.body();
    await expect.poll(() => refusals().length).toBe(2);
    expect(refusals()).toEqual([expect.objectContaining({ level: 30, reason }), expect.objectContaining({ level: 30, reason })]);
    expect(info().map((l) => [l.msg, l.route, l.status, l.code])).toEqual([
      ['subscriber credentials refused', undefined, undefined, undefined],
      ['request completed', '/v1/ws', 401, 'unauthorized'],
      ['subscriber credentials refused', undefined, undefined, undefined],
      ['request completed', '/v1/sse/:channel', 401, 'unauthorized'],
    ]);
    expect(closeLines()).toEqual([]);
    if (token) expect(server.logs.join('')).not.toContain(token);
  });

  test('a stream refused after its credentials (403) is one request line with its subject', async () => {
    const before = info().length;
    const stream = await openStream('/v1/sse/secret', server.token(['news'], { sub: 'nosy' }));
    expect(stream.status).toBe(403);
    await stream.body();
    await expect.poll(() => since(before).length).toBe(1);
    expect(since(before)[0]).toMatchObject({ msg: 'request completed', route: '/v1/sse/:channel', status: 403, code: 'forbidden', subject: 'nosy' });
  });
});

test('no line of a connection\'s life holds the token, the JWT secret or the Redis password', async () => {
  const token = server.token(['*'], { sub: 'user-11' });
  const socket = await openSocket(token);
  await socket.subscribe('news');
  await server.publish('news', { n: 1 });
  await socket.waitForEvents('news', 1);
  socket.ws.close(1000);
  const stream = await TestEventStream.open(`${server.httpUrl}/v1/sse/news?token=${token}`);
  streams.push(stream);
  await stream.waitFor(1);
  stream.close();
  await expect.poll(() => closeLines().length).toBe(2);
  const all = server.logs.join('');
  for (const secret of [token, SECRET, REDIS_PASSWORD]) expect(all).not.toContain(secret);
});
