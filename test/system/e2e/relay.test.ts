import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { RetryingPublisher } from '../../support/publisher.js';
import { ResumingSubscriber, deliveryReport } from '../../support/resuming-subscriber.js';
import { TestEventStream } from '../../support/sse-client.js';
import { startStack, type Stack } from '../../support/stack.js';
import { TestSocket } from '../../support/ws-client.js';

/**
 * The end-to-end suite: the same tests against local processes (npm test)
 * and against the docker compose stack (npm run test:compose).
 */
let stack: Stack;
let wsUrls: string[];
let token: string;
const opened: { close(): void }[] = [];
let n = 0;
/** A fresh channel per test, so tests never see each other's events. */
const channel = (name: string) => `e2e:${name}:${process.pid}:${++n}:${Date.now()}`;

async function socket(i: number, tok = token): Promise<TestSocket> {
  const s = await TestSocket.open(wsUrls[i]!, { token: tok });
  opened.push(s);
  return s;
}
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.sourceUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.publisherKey}`, ...headers },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field in each test
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  stack = await startStack({ persistence: 'aof' });
  wsUrls = stack.clientUrls.map((u) => `${u.replace(/^http/, 'ws')}/v1/ws`);
  token = signSubscriberToken(stack.jwtSecret, { channels: ['*'], ttlSeconds: 3600 });
}, 120_000);
afterAll(async () => {
  opened.forEach((s) => s.close());
  await stack?.stop();
});

describe('fan-out across client-servers', () => {
  test('subscribers on both client-servers receive every event, in order, once', async () => {
    const ch = channel('fanout');
    const subs = [await socket(0), await socket(0), await socket(1), await socket(1)];
    for (const s of subs) expect(await s.subscribe(ch)).toMatchObject({ type: 'subscribed', recovered: true });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await post(`/v1/channels/${ch}/events`, { i })).body.id);
    for (const s of subs) {
      const events = await s.waitForEvents(ch, 50);
      expect(events.map((e) => e.id)).toEqual(ids);
      expect(events.map((e) => (e.data as { i: number }).i)).toEqual([...Array(50).keys()]);
    }
  });
});

describe('resume', () => {
  test('a subscriber that moves to the other client-server with since while events are published misses nothing and gets nothing twice', async () => {
    const ch = channel('seam');
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, ch);
    const first = await socket(0);
    await first.subscribe(ch);
    const publishing = publisher.publishMany(300, 300);
    await first.waitForEvents(ch, 30);
    first.close();
    const lastSeen = first.events(ch).at(-1)!.id as string;
    const second = await socket(1);
    const reply = await second.subscribe(ch, lastSeen);
    await publishing;
    expect(reply).toMatchObject({ type: 'subscribed', recovered: true });
    await second.waitForEvents(ch, publisher.acknowledged.length - first.events(ch).length);
    const received = [...first.events(ch), ...second.events(ch)].map((e) => e.id as string);
    expect(deliveryReport(publisher.acknowledged, received)).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
  });

  test('SSE resumes with Last-Event-ID on the other client-server', async () => {
    const ch = channel('sse');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post(`/v1/channels/${ch}/events`, { i })).body.id);
    const stream = await TestEventStream.open(`${stack.clientUrls[1]}/v1/sse/${ch}?token=${token}`, { 'last-event-id': ids[1]! });
    opened.push(stream);
    const live = (await post(`/v1/channels/${ch}/events`, { i: 5 })).body.id;
    const messages = await stream.waitFor(5);
    expect(JSON.parse(messages[0]!.data)).toMatchObject({ type: 'subscribed', recovered: true });
    expect(messages.slice(1).map((m) => m.id)).toEqual([ids[2], ids[3], ids[4], live]);
  });
});

describe('publishing', () => {
  test('a retry with the same Idempotency-Key stores nothing new and answers the first id', async () => {
    const ch = channel('idem');
    const s = await socket(0);
    await s.subscribe(ch);
    const first = await post(`/v1/channels/${ch}/events`, { v: 1 }, { 'idempotency-key': 'order-42' });
    const retry = await post(`/v1/channels/${ch}/events`, { v: 2 }, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    await post(`/v1/channels/${ch}/events`, { v: 3 });
    const events = await s.waitForEvents(ch, 2);
    expect(events.map((e) => e.data)).toEqual([{ v: 1 }, { v: 3 }]);
  });

  test('a batch is stored in request order per channel and delivered', async () => {
    const a = channel('batch-a');
    const b = channel('batch-b');
    const s = await socket(1);
    await s.subscribe(a);
    await s.subscribe(b);
    const res = await post('/v1/events', {
      events: [
        { channel: a, data: 1 },
        { channel: b, data: 2 },
        { channel: a, data: 3, idempotencyKey: 'k' },
        { channel: a, data: 4, idempotencyKey: 'k' },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results as { channel: string; id: string; replayed?: boolean }[];
    expect(results.map((r) => r.channel)).toEqual([a, b, a, a]);
    expect(results[3]).toEqual({ channel: a, id: results[2]!.id, replayed: true });
    expect((await s.waitForEvents(a, 2)).map((e) => e.data)).toEqual([1, 3]);
    expect((await s.waitForEvents(b, 1)).map((e) => e.data)).toEqual([2]);
  });

  test('a batch with one bad event stores nothing', async () => {
    const ch = channel('bad-batch');
    const res = await post('/v1/events', { events: [{ channel: ch, data: 1 }, { channel: 'bad channel', data: 2 }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_channel', index: 1 });
    const s = await socket(0);
    expect(await s.subscribe(ch, '1-0')).toMatchObject({ recovered: false });
    s.send({ type: 'ping' });
    await s.next((m) => m.type === 'pong');
    expect(s.events(ch)).toHaveLength(0);
  });
});

describe('rejections', () => {
  test('a publish without a valid key is 401 unauthorized', async () => {
    const res = await post(`/v1/channels/${channel('auth')}/events`, {}, { authorization: 'Bearer wrong-key-wrong-key' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  test('a WebSocket without a token is refused with 401 on both client-servers', async () => {
    for (const url of wsUrls) await expect(TestSocket.open(url)).rejects.toMatchObject({ status: 401 });
  });

  test('bad frames are answered with error and the connection keeps delivering', async () => {
    const ch = channel('frames');
    const s = await socket(0);
    await s.subscribe(ch);
    s.send('not json');
    expect(await s.next()).toMatchObject({ type: 'error', code: 'invalid_json' });
    s.send({ type: 'nope' });
    expect(await s.next()).toMatchObject({ type: 'error', code: 'invalid_request' });
    await post(`/v1/channels/${ch}/events`, 'after errors');
    expect((await s.waitForEvents(ch, 1))[0]!.data).toBe('after errors');
  });
});

describe('faults', () => {
  test('a Redis restart mid-stream (AOF): every resuming subscriber ends with every acknowledged event exactly once', async () => {
    const ch = channel('redis-restart');
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, ch);
    const subscribers = Array.from({ length: 6 }, (_, i) => new ResumingSubscriber(wsUrls, token, ch, i));
    await Promise.all(subscribers.map((s) => s.start()));
    await publisher.publishMany(200, 100, async (i) => {
      if (i === 60) subscribers[0]!.pause(); // offline across the restart
      if (i === 80) await stack.restartRedis();
      if (i === 140) subscribers[0]!.resume();
    });
    const ack = publisher.acknowledged;
    await waitUntil(() => subscribers.every((s) => s.lastId === ack.at(-1)), 20_000);
    for (const s of subscribers) {
      s.stop();
      expect(deliveryReport(ack, s.received)).toMatchObject({ published: 200, lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 });
    }
    // With AOF the offline subscriber's since survived the restart.
    expect(subscribers[0]!.recoveredFlags.at(-1)).toBe(true);
  }, 90_000);

  test('a client-server killed mid-stream: its clients resume on the other with nothing lost', async () => {
    const ch = channel('kill');
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, ch);
    const subscribers = Array.from({ length: 6 }, (_, i) => new ResumingSubscriber(wsUrls, token, ch, i));
    await Promise.all(subscribers.map((s) => s.start()));
    await publisher.publishMany(150, 100, async (i) => {
      if (i === 50) await stack.killClient(0);
    });
    const ack = publisher.acknowledged;
    await waitUntil(() => subscribers.every((s) => s.lastId === ack.at(-1)), 20_000);
    for (const s of subscribers) {
      s.stop();
      expect(deliveryReport(ack, s.received)).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    }
    expect(subscribers.filter((s) => s.reconnects > 0).length).toBeGreaterThanOrEqual(3);
    await stack.startClient(0);
  }, 90_000);
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
