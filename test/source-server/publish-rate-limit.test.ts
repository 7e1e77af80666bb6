import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { AUTH, JSON_HEADERS, PUBLISHER_KEY, errorCode, publish, publishBatch, useSource } from '../support/source-app.js';

const OTHER_KEY = 'another-publisher-key-0123456789';
/** Five events per window; the window is long so that no test runs into its end. */
const LIMITED = { PUBLISH_RATE_LIMIT: '1', PUBLISH_RATE_WINDOW_SECONDS: '5', PUBLISHER_KEYS: `${PUBLISHER_KEY},${OTHER_KEY}` };

describe('publish rate per publisher key (in memory)', () => {
  test('is off by default: many publishes in a row are all stored', async () => {
    const { app, stored } = useSource();
    for (let i = 0; i < 50; i++) expect((await publish(app, 'news', `{"i":${i}}`)).statusCode).toBe(200);
    expect(await stored('news')).toHaveLength(50);
  });

  test('over the limit a publish is answered 429 rate_limited with Retry-After, and nothing is stored', async () => {
    const { app, stored } = useSource({ env: LIMITED });
    for (let i = 0; i < 5; i++) expect((await publish(app, 'news', `{"i":${i}}`)).statusCode).toBe(200);
    const refused = await publish(app, 'news', '{"i":5}');
    expect(refused.statusCode).toBe(429);
    expect(errorCode(refused)).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(5);
    expect(await stored('news')).toHaveLength(5);
  });

  test('a batch counts as its number of events, and a refused batch stores none of them', async () => {
    const { app, stored } = useSource({ env: LIMITED });
    const events = (n: number) => ({ events: Array.from({ length: n }, (_, i) => ({ channel: 'news', data: { i } })) });
    expect((await publishBatch(app, events(3))).statusCode).toBe(200);
    const refused = await publishBatch(app, events(3));
    expect(refused.statusCode).toBe(429);
    expect(errorCode(refused)).toBe('rate_limited');
    expect(await stored('news')).toHaveLength(3);
    expect((await publishBatch(app, events(2))).statusCode).toBe(200);
    expect(await stored('news')).toHaveLength(5);
  });

  test('each key has its own allowance', async () => {
    const { app } = useSource({ env: LIMITED });
    for (let i = 0; i < 5; i++) await publish(app, 'news', '{}');
    expect((await publish(app, 'news', '{}')).statusCode).toBe(429);
    expect((await publish(app, 'news', '{}', { authorization: `Bearer ${OTHER_KEY}` })).statusCode).toBe(200);
  });

  test('a bad key is answered 401, not 429, and does not use up anyone\'s allowance', async () => {
    const { app } = useSource({ env: LIMITED });
    for (let i = 0; i < 10; i++) {
      expect(errorCode(await publish(app, 'news', '{}', { authorization: 'Bearer not-a-key-not-a-key-0000' }))).toBe('unauthorized');
    }
    expect((await publish(app, 'news', '{}')).statusCode).toBe(200);
  });
});

describe('publish rate counted across replicas in Redis', () => {
  let redis: RedisServerHandle;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** A source-server wired as main.ts wires it: on an engine from createEngine, whose limiter counts in Redis. */
  async function replica() {
    const config = loadConfig({ ...LIMITED, REDIS_URL: redis.url });
    const logger = pino({ level: 'silent' });
    const engine = createEngine({ config, logger }, { subscribe: false });
    const app = buildSourceApp({ config, logger, engine });
    const deadline = Date.now() + 10_000;
    while ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200) {
      if (Date.now() > deadline) throw new Error('replica not ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    return {
      app,
      engine,
      async close() {
        await app.close();
        await engine.close();
      },
    };
  }

  test('two replicas share one allowance per key, and Redis holds no publisher key', async () => {
    const a = await replica();
    const b = await replica();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const app = i % 2 === 0 ? a.app : b.app;
        const res = await app.inject({ method: 'POST', url: '/v1/channels/shared/events', headers: JSON_HEADERS, payload: `{"i":${i}}` });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(errorCode(res)).toBe('rate_limited');
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      const inspector = new Redis(redis.url);
      const keys = await inspector.keys('*');
      inspector.disconnect();
      expect(keys.some((k) => k.startsWith('er:rl:'))).toBe(true);
      expect(keys.join(' ')).not.toContain(PUBLISHER_KEY);
      const history = await a.engine.bus.history('shared', '0-0');
      expect(history.events).toHaveLength(5);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an unreachable Redis is answered 503 unavailable, never a publish let through unchecked', async () => {
    const a = await replica();
    try {
      redis.pause();
      const res = await a.app.inject({ method: 'POST', url: '/v1/channels/paused/events', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(503);
      expect(errorCode(res)).toBe('unavailable');
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      redis.resume();
      await a.close();
    }
  });
});
