import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { createLogger } from '../../services/runtime/logger.js';
import { SourceMetrics } from '../../services/source-server/source-metrics.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { AUTH, PUBLISHER_KEY, errorCode, publish, publishBatch } from '../support/source-app.js';

/** The source app on the real bus, against a real redis-server: what production runs. */
describe('the source app on RedisBus', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A source-server wired as main.ts wires it: an engine from createEngine on REDIS_URL. */
  async function redisSource(env: Record<string, string> = {}) {
    const config = loadConfig({ PUBLISHER_KEYS: `${PUBLISHER_KEY},second-publisher-key-0123456789`, REDIS_URL: server.url, LOG_LEVEL: 'warn', ...env });
    const logger = createLogger(config, 'source-server', { write() {} });
    const engine = createEngine({ config, logger }, { subscribe: false });
    const app = buildSourceApp({ config, logger, engine, metrics: new SourceMetrics({ defaultMetrics: false }) });
    // Whoever creates a resource closes it: app, then engine (which quits its connections).
    onTestFinished(async () => {
      await app.close();
      await engine.close();
    });
    const deadline = Date.now() + 10_000;
    while ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200) {
      if (Date.now() > deadline) throw new Error('source-server on Redis not ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    return { app, bus: engine.bus };
  }

  test('a published event is in the channel history under the id the response gave, with exactly the posted data', async () => {
    const { app, bus } = await redisSource();
    const response = await publish(app, 'redis-one', '{"price":10.50}');
    expect(response.statusCode).toBe(200);
    const { id } = response.json() as { id: string };
    const { events } = await bus.history('redis-one', '0-0');
    expect(events.map((e) => e.id)).toEqual([id]);
    expect(encodeEventMessage(events[0]!).toString()).toContain('"data":{"price":10.50}');
  });

  test('an Idempotency-Key retry is answered from Redis with the first id and stores nothing new', async () => {
    const { app, bus } = await redisSource();
    const first = await publish(app, 'redis-idem', '1', { 'idempotency-key': 'redis-k' });
    const retry = await publish(app, 'redis-idem', '2', { 'idempotency-key': 'redis-k' });
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await bus.history('redis-idem', '0-0')).events).toHaveLength(1);
  });

  test('a batch over several channels is stored in request order, a repeated key once', async () => {
    const { app, bus } = await redisSource();
    const response = await publishBatch(app, {
      events: [
        { channel: 'redis-a', data: 1 },
        { channel: 'redis-b', data: 2, idempotencyKey: 'dup' },
        { channel: 'redis-a', data: 3 },
        { channel: 'redis-b', data: 4, idempotencyKey: 'dup' },
      ],
    });
    expect(response.statusCode).toBe(200);
    const { results } = response.json() as { results: { channel: string; id: string; replayed?: boolean }[] };
    expect(results[3]).toEqual({ channel: 'redis-b', id: results[1]!.id, replayed: true });
    const a = await bus.history('redis-a', '0-0');
    expect(a.events.map((e) => e.id)).toEqual([results[0]!.id, results[2]!.id]);
    expect((await bus.history('redis-b', '0-0')).events).toHaveLength(1);
  });

  test('a Redis that does not answer makes a publish 503 unavailable with Retry-After, and no 2xx', async () => {
    const { app } = await redisSource();
    expect((await publish(app, 'redis-frozen', '0')).statusCode).toBe(200);
    server.pause();
    try {
      const response = await publish(app, 'redis-frozen', '1');
      expect(response.statusCode).toBe(503);
      expect(errorCode(response)).toBe('unavailable');
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      server.resume();
    }
  });
  test('batch data keeps every digit in Redis: 12345678901234567890 is stored as sent', async () => {
    const { app, bus } = await redisSource();
    const response = await publishBatch(app, '{"events":[{"channel":"redis-digits","data":{"big":12345678901234567890,"f":1.50}}]}');
    expect(response.statusCode).toBe(200);
    const { events } = await bus.history('redis-digits', '0-0');
    expect(events[0]!.data.toString()).toBe('{"big":12345678901234567890,"f":1.50}');
  });

  test('idempotency keys are scoped per publisher key in Redis, and Redis holds no publisher key', async () => {
    const { app, bus } = await redisSource();
    const other = { authorization: 'Bearer second-publisher-key-0123456789' };
    const first = await publish(app, 'redis-scoped', '1', { 'idempotency-key': 'same' });
    const second = await publish(app, 'redis-scoped', '2', { ...other, 'idempotency-key': 'same' });
    const retry = await publish(app, 'redis-scoped', '3', { ...other, 'idempotency-key': 'same' });
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.json()).not.toEqual(first.json());
    expect(retry.json()).toEqual(second.json());
    expect((await bus.history('redis-scoped', '0-0')).events.map((e) => e.data.toString())).toEqual(['1', '2']);
    const redis = new Redis(server.url);
    try {
      const keys = await redis.keys('*');
      expect(keys.filter((k) => k.startsWith('er:{redis-scoped}:i:'))).toHaveLength(2);
      expect(keys.filter((k) => k.includes(PUBLISHER_KEY) || k.includes('second-publisher-key'))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  test('the history endpoint pages a Redis stream through next without gap or duplicate', async () => {
    const { app } = await redisSource();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const events = Array.from({ length: 50 }, (_, j) => ({ channel: 'redis-pages', data: i * 50 + j }));
      const { results } = (await publishBatch(app, { events })).json() as { results: { id: string }[] };
      ids.push(...results.map((r) => r.id));
    }
    const seen: string[] = [];
    let since: string | null = '0-0';
    let pages = 0;
    while (since !== null) {
      const page = await app.inject({ method: 'GET', url: `/v1/channels/redis-pages/events?since=${since}&limit=70`, headers: AUTH });
      expect(page.statusCode).toBe(200);
      const body = page.json() as { events: { id: string; data: number }[]; recovered: boolean; next: string | null };
      // 0-0 is no event; every later since is the id of one still held.
      expect(body.recovered).toBe(pages > 0);
      seen.push(...body.events.map((e) => e.id));
      since = body.next;
      pages++;
    }
    expect(seen).toEqual(ids);
    expect(pages).toBe(4);
    const latest = (await app.inject({ method: 'GET', url: '/v1/channels/redis-pages/events?limit=3', headers: AUTH })).json() as { events: { id: string }[] };
    expect(latest.events.map((e) => e.id)).toEqual(ids.slice(-3));
  });
});
