import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { BUS_DEPLOYMENTS, memoryDeployment, startSingle, type DeploymentKind } from '../support/client-deployment.js';
import { startClientServer, type ClientFixture, type ClientServerOptions } from '../support/client-server.js';
import { TestSocket, type ServerMessage } from '../support/ws-client.js';

/** PROTOCOL.md v1.1, Client publish (WebSocket), on every kind of BUS_DEPLOYMENTS. */

let server: ClientFixture;
let kind: DeploymentKind = memoryDeployment;
const sockets: TestSocket[] = [];
const closers: (() => Promise<unknown>)[] = [];

async function start(env: Record<string, string> = {}, options: ClientServerOptions = {}): Promise<void> {
  server = options.engine ? await startClientServer({ LOG_LEVEL: 'warn', ...env }, undefined, options) : await startSingle(kind, env);
  closers.push(() => server.close());
}
async function connect(sub: string | undefined, publish: string[] = ['room:*'], channels = ['*']): Promise<TestSocket> {
  const socket = await TestSocket.open(server.wsUrl, { token: server.token(channels, { sub, publish }) });
  sockets.push(socket);
  return socket;
}
function answer(socket: TestSocket, ref: string): Promise<ServerMessage> {
  return socket.next((m) => (m.type === 'published' || m.type === 'error') && m.ref === ref);
}
async function publish(socket: TestSocket, message: Record<string, unknown>): Promise<ServerMessage> {
  socket.send({ type: 'publish', ...message });
  return answer(socket, message.ref as string);
}
async function history(channel: string): Promise<Record<string, unknown>[]> {
  const { events } = await server.engine.bus.history(channel, '0-0');
  return events.map((e) => JSON.parse(encodeEventMessage(e).toString()) as Record<string, unknown>);
}

afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  for (const close of closers.splice(0).reverse()) await close();
  kind = memoryDeployment;
});

describe.each(BUS_DEPLOYMENTS)('on $name', (deployment) => {
  beforeEach(() => {
    kind = deployment;
  });

  describe('client publish', () => {
    test('is stored like a source publish and answered published with its id and ref; subscribers, the sender included, get it with publisher', async () => {
      await start();
      const sender = await connect('alice');
      const other = await connect('bob');
      await sender.subscribe('room:1');
      await other.subscribe('room:1');
      const reply = await publish(sender, { channel: 'room:1', data: { text: 'hi' }, ref: 'c1' });
      expect(reply).toEqual({ type: 'published', channel: 'room:1', id: expect.any(String), ref: 'c1' });
      const expected = { type: 'event', channel: 'room:1', id: reply.id, data: { text: 'hi' }, ts: expect.any(Number), publisher: 'alice' };
      expect((await other.waitForEvents('room:1', 1))[0]).toEqual(expected);
      expect((await sender.waitForEvents('room:1', 1))[0]).toEqual(expected);
      // Stored with the event: history shows the publisher too.
      expect(await history('room:1')).toEqual([expected]);
    });

    test('a resume with since shows the publisher of client-published events', async () => {
      await start();
      const sender = await connect('alice');
      const first = await server.publish('room:1', 'from the source');
      const published = await publish(sender, { channel: 'room:1', data: 2, ref: 'a' });
      const late = await connect('bob');
      await late.subscribe('room:1', first);
      const [event] = await late.waitForEvents('room:1', 1);
      expect(event).toMatchObject({ id: published.id, data: 2, publisher: 'alice' });
    });

    test('the connection does not have to be subscribed; without ref the reply has none', async () => {
      await start();
      const sender = await connect('alice');
      const listener = await connect('bob');
      await listener.subscribe('room:1');
      sender.send({ type: 'publish', channel: 'room:1', data: null });
      const reply = await sender.next((m) => m.type === 'published');
      expect(reply).toEqual({ type: 'published', channel: 'room:1', id: expect.any(String) });
      expect((await listener.waitForEvents('room:1', 1))[0]).toMatchObject({ id: reply.id, data: null, publisher: 'alice' });
      expect(sender.events()).toEqual([]);
    });

    test('data reaches subscribers as the client wrote it, numbers digit for digit; only insignificant whitespace is dropped', async () => {
      await start();
      const sender = await connect('alice');
      const listener = await connect('bob');
      await listener.subscribe('room:1');
      const data = '{"big":12345678901234567890,"f":1.10,"e":1E+2,"s":"a\\u00e9 \\n","a":[ 1 ,\n 2 ]}';
      sender.ws.send(`{"type":"publish","channel":"room:1","ref":"d","data":${data}}`);
      await answer(sender, 'd');
      await listener.waitForEvents('room:1', 1);
      const frame = listener.raw.find((r) => r.includes('"type":"event"'))!;
      expect(frame).toContain('"data":{"big":12345678901234567890,"f":1.10,"e":1E+2,"s":"a\\u00e9 \\n","a":[1,2]}');
    });

    test('an idempotency key is scoped per token sub and channel: a retry stores nothing new, another user or channel is another key', async () => {
      await start();
      const alice = await connect('alice');
      const aliceAgain = await connect('alice');
      const bob = await connect('bob');
      const first = await publish(alice, { channel: 'room:1', data: 1, idempotencyKey: 'k1', ref: '1' });
      expect(first.replayed).toBeUndefined();
      // Another connection of the same user is the same scope.
      const retry = await publish(aliceAgain, { channel: 'room:1', data: 'ignored', idempotencyKey: 'k1', ref: '2' });
      expect(retry).toEqual({ type: 'published', channel: 'room:1', id: first.id, ref: '2', replayed: true });
      const otherUser = await publish(bob, { channel: 'room:1', data: 3, idempotencyKey: 'k1', ref: '3' });
      const otherChannel = await publish(alice, { channel: 'room:2', data: 4, idempotencyKey: 'k1', ref: '4' });
      expect(otherUser.id).not.toBe(first.id);
      expect(otherUser.replayed).toBeUndefined();
      expect(otherChannel.replayed).toBeUndefined();
      expect((await history('room:1')).map((e) => e.data)).toEqual([1, 3]);
    });

    test('publishes of one connection are stored in the order sent, interleaved with concurrent source-server publishes, each delivered once in id order', async () => {
      await start();
      const sourceConfig = loadConfig({ PUBLISHER_KEYS: 'source-key-0123456789abcdef', LOG_LEVEL: 'warn' });
      const source: FastifyInstance = buildSourceApp({ config: sourceConfig, logger: pino({ level: 'silent' }), engine: server.engine });
      await source.listen({ host: '127.0.0.1', port: 0 });
      closers.push(() => source.close());
      const sourceUrl = `http://127.0.0.1:${(source.server.address() as { port: number }).port}`;
      const listener = await connect('bob');
      await listener.subscribe('room:1');
      const sender = await connect('alice');
      const n = 50;
      for (let i = 0; i < n; i++) sender.send({ type: 'publish', channel: 'room:1', data: { client: i }, ref: `r${i}` });
      const posts = Array.from({ length: n }, (_, i) =>
        fetch(`${sourceUrl}/v1/channels/room:1/events`, {
          method: 'POST',
          headers: { authorization: 'Bearer source-key-0123456789abcdef', 'content-type': 'application/json' },
          body: JSON.stringify({ source: i }),
        }),
      );
      expect((await Promise.all(posts)).map((r) => r.status)).toEqual(Array(n).fill(200));
      const events = await listener.waitForEvents('room:1', 2 * n);
      const ids = events.map((e) => e.id as string);
      expect(new Set(ids).size).toBe(2 * n);
      const sorted = [...events].sort((a, b) => compare(a.id as string, b.id as string));
      expect(events).toEqual(sorted);
      const fromClient = events.filter((e) => e.publisher === 'alice').map((e) => (e.data as { client: number }).client);
      expect(fromClient).toEqual(Array.from({ length: n }, (_, i) => i));
      const replies = sender.messages.filter((m) => m.type === 'published');
      expect(replies.map((m) => m.ref)).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
      // Delivered exactly as stored.
      expect((await history('room:1')).map((e) => e.id)).toEqual(ids);
    });
  });

  describe('client publish refusals carry the ref and the channel, and the connection stays open', () => {
    test.each([
      ['a token without publish patterns', { sub: 'alice', publish: [] as string[] }, 'room:1'],
      ['a channel no publish pattern matches', { sub: 'alice', publish: ['room:*'] }, 'lobby'],
      ['a token without sub', { sub: undefined, publish: ['room:*'] }, 'room:1'],
    ])('%s is forbidden', async (_name, claims, channel) => {
      await start();
      const socket = await connect(claims.sub, claims.publish);
      expect(await publish(socket, { channel, data: 1, ref: 'f' })).toMatchObject({ type: 'error', code: 'forbidden', channel, ref: 'f' });
      expect(await server.engine.bus.latest(channel, 1)).toEqual([]);
    });

    test('a bad channel name is invalid_channel', async () => {
      await start();
      const socket = await connect('alice', ['*']);
      expect(await publish(socket, { channel: 'a b', data: 1, ref: 'x' })).toMatchObject({ type: 'error', code: 'invalid_channel', channel: 'a b', ref: 'x' });
    });

    test('data over MAX_EVENT_BYTES in a frame that fits is payload_too_large', async () => {
      await start({ MAX_EVENT_BYTES: '100' });
      const socket = await connect('alice');
      const big = 'x'.repeat(200);
      expect(await publish(socket, { channel: 'room:1', data: big, ref: 'big' })).toMatchObject({ type: 'error', code: 'payload_too_large', channel: 'room:1', ref: 'big' });
      // The limit is on data alone: the largest allowed data still fits.
      expect(await publish(socket, { channel: 'room:1', data: 'y'.repeat(98), ref: 'ok' })).toMatchObject({ type: 'published' });
    });

    test('with the default limits, a publish of the largest allowed data fits in a frame; one byte more is payload_too_large', async () => {
      await start();
      const socket = await connect('alice');
      const max = server.config.maxEventBytes;
      // A JSON string of `max` bytes: the quotes count, as in a source-server body.
      expect(await publish(socket, { channel: 'room:1', data: 'x'.repeat(max - 2), ref: 'max' })).toMatchObject({ type: 'published', ref: 'max' });
      expect(await publish(socket, { channel: 'room:1', data: 'x'.repeat(max - 1), ref: 'over' })).toMatchObject({ type: 'error', code: 'payload_too_large', ref: 'over' });
      expect(socket.closeCode).toBeUndefined();
    });

    test('over PUBLISH_RATE_LIMIT is rate_limited, counted per sub', async () => {
      // 0.1 events/s over a 10 s window: one publish per window.
      await start({ PUBLISH_RATE_LIMIT: '0.1', PUBLISH_RATE_WINDOW_SECONDS: '10' });
      const alice = await connect('alice');
      const bob = await connect('bob');
      expect(await publish(alice, { channel: 'room:1', data: 1, ref: 'a1' })).toMatchObject({ type: 'published' });
      expect(await publish(alice, { channel: 'room:1', data: 2, ref: 'a2' })).toMatchObject({ type: 'error', code: 'rate_limited', channel: 'room:1', ref: 'a2' });
      expect(await publish(bob, { channel: 'room:1', data: 3, ref: 'b1' })).toMatchObject({ type: 'published' });
    });

    test('while draining, a publish is unavailable', async () => {
      await start();
      const socket = await connect('alice');
      server.app.clientRelay.lifecycle.startDraining();
      expect(await publish(socket, { channel: 'room:1', data: 1, ref: 'd' })).toMatchObject({ type: 'error', code: 'unavailable', channel: 'room:1', ref: 'd' });
    });

    test('a ref over 64 characters is invalid_request; 64 characters, counted as code points, are fine', async () => {
      await start();
      const socket = await connect('alice');
      socket.send({ type: 'publish', channel: 'room:1', data: 1, ref: 'r'.repeat(65) });
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_request', channel: 'room:1' });
      const emoji = '😀'.repeat(64);
      expect(await publish(socket, { channel: 'room:1', data: 1, ref: emoji })).toMatchObject({ type: 'published', ref: emoji });
    });

    test.each([
      ['no data', { channel: 'room:1' }],
      ['a bad idempotencyKey', { channel: 'room:1', data: 1, idempotencyKey: 'has space' }],
      ['data nested deeper than 128 levels', { channel: 'room:1', data: JSON.parse('['.repeat(129) + ']'.repeat(129)) as unknown }],
    ])('%s is invalid_request with the ref and channel', async (_name, message) => {
      await start();
      const socket = await connect('alice');
      expect(await publish(socket, { ...message, ref: 'q' })).toMatchObject({ type: 'error', code: 'invalid_request', channel: 'room:1', ref: 'q' });
      socket.send({ type: 'ping' });
      expect(await socket.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
      expect(socket.closeCode).toBeUndefined();
    });

    test('outcomes are counted in eventrelay_client_publishes_total', async () => {
      await start();
      const socket = await connect('alice');
      await publish(socket, { channel: 'room:1', data: 1, ref: '1' });
      await publish(socket, { channel: 'lobby', data: 1, ref: '2' });
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      expect(text).toMatch(/eventrelay_client_publishes_total\{outcome="published"[^}]*\} 1/);
      expect(text).toMatch(/eventrelay_client_publishes_total\{outcome="forbidden"[^}]*\} 1/);
    });
  });
});

describe('client publish on engines built for the test', () => {
  test('a store that fails is unavailable', async () => {
    await start({}, {
      engine: ({ config, logger }) => {
        const engine = createMemoryEngine({ config, logger });
        const bus = Object.assign(Object.create(engine.bus) as typeof engine.bus, {
          publish: async () => {
            throw new Error('store down');
          },
        });
        return { ...engine, bus };
      },
    });
    const socket = await connect('alice');
    expect(await publish(socket, { channel: 'room:1', data: 1, ref: 'u' })).toMatchObject({ type: 'error', code: 'unavailable', channel: 'room:1', ref: 'u' });
  });


  test('publishes of one connection are stored and answered in the order sent, even when the rate limiter answers out of order', async () => {
    await start({}, {
      engine: ({ config, logger }) => {
        const engine = createMemoryEngine({ config, logger });
        let calls = 0;
        // A limiter whose answers take longer for earlier charges (round trips to a busy Redis).
        const publishRateLimiter = { take: async () => (await new Promise((r) => setTimeout(r, 30 - (calls++ % 10) * 3)), { allowed: true as const }) };
        return { ...engine, publishRateLimiter };
      },
    });
    const sender = await connect('alice');
    for (let i = 0; i < 10; i++) sender.send({ type: 'publish', channel: 'room:1', data: i, ref: `r${i}` });
    await answer(sender, 'r9');
    expect(sender.messages.filter((m) => m.type === 'published').map((m) => m.ref)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect((await history('room:1')).map((e) => e.data)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

function compare(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

