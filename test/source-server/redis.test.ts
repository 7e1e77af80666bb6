import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { redisClientOptions } from '../../services/engine/redis/options.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { createLogger } from '../../services/runtime/logger.js';
import { Metrics } from '../../services/runtime/metrics.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { PUBLISHER_KEY, errorCode, publish, publishBatch } from '../support/source-app.js';
import { engineOf } from '../support/engines.js';

/** The source app on the real bus, against a real redis-server: what production runs. */
describe('the source app on RedisBus', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function redisSource() {
    const config = loadConfig({ PUBLISHER_KEYS: PUBLISHER_KEY, REDIS_URL: server.url, LOG_LEVEL: 'warn' });
    const logger = createLogger(config, 'source-server', { write() {} });
    const redis = new Redis(server.url, redisClientOptions(config));
    // Without an offline queue a command sent before the connection is ready fails at once (by design).
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const bus = new RedisBus({ config, logger, redis });
    const app = buildSourceApp({ config, logger, engine: engineOf(bus), metrics: new Metrics('source-server', { defaultMetrics: false }) });
    onTestFinished(async () => {
      // Whoever creates a resource closes it: app, then bus, then the connection.
      await app.close();
      await bus.close();
      redis.disconnect();
    });
    return { app, bus };
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
});
