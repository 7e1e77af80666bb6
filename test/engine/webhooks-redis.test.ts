import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createEngine } from '../../services/engine/create-engine.js';
import { transitionJson } from '../../services/engine/outbox.js';
import { OUTBOX_INDEX_KEY, outboxKey, outboxStateKey } from '../../services/engine/redis/keys.js';
import { markOutbox } from '../../services/engine/redis/outbox-mark.js';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { RedisOutboxStore } from '../../services/engine/redis/webhook-outbox.js';
import { WebhookDispatcher } from '../../services/engine/webhooks/dispatcher.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { eventually, freshChannel, sinkLogger } from '../support/recorder.js';
import { busConfig, ready } from '../support/redis-bus.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { FAST, WEBHOOK_SECRET, webhooksContract } from './webhooks-contract.js';

let server: RedisServerHandle;
let raw: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url);
  await ready(raw);
});
afterAll(async () => {
  raw?.disconnect();
  await server?.stop();
});

async function connect(): Promise<Redis> {
  const redis = new Redis(server.url);
  redis.on('error', () => {});
  await ready(redis);
  return redis;
}

webhooksContract('Redis', async () => {
  // Each test starts from an empty Redis: an outbox a test left undelivered would go to the next test's receivers.
  await raw.flushall();
  const connections = [await connect()];
  const redis = connections[0]!;
  const bus = new RedisBus({ config: { ...busConfig(), webhookUrls: ['http://127.0.0.1:9/unused'] }, logger: sinkLogger().logger, redis });
  return {
    // What the presence and occupancy scripts do: mark, append in the script, mark (outbox-mark.ts).
    async append(t) {
      await markOutbox(redis, t.channel, Date.now());
      await redis.xadd(outboxKey(t.channel), '*', 'j', transitionJson(t));
      await markOutbox(redis, t.channel, Date.now());
    },
    publishClient: async (channel, data, publisher) => (await bus.publish([{ channel, data, ts: Date.now(), publisher }]))[0]!.id,
    publishSource: async (channel, data) => void (await bus.publish([{ channel, data, ts: Date.now() }])),
    store() {
      const own = new Redis(server.url);
      own.on('error', () => {});
      connections.push(own);
      return new RedisOutboxStore(own);
    },
    outbox: async (channel) => (await redis.xrange(outboxKey(channel), '-', '+')).map(([, fields]) => fields[1]!),
    drained: async (channel) =>
      (await redis.exists(outboxKey(channel), outboxStateKey(channel))) === 0 && (await redis.zscore(OUTBOX_INDEX_KEY, channel)) === null,
    async cleanup() {
      await bus.close();
      for (const c of connections) c.disconnect();
    },
  };
});

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closing.length) await closing.pop()!();
});

test('an outbox its writer never marked (it died between script and mark) is found by the repair and delivered', async () => {
  await raw.flushall();
  const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
  closing.push(() => receiver.close());
  const channel = freshChannel('orphan');
  await raw.xadd(outboxKey(channel), '*', 'j', transitionJson({ kind: 'channel.occupied', channel, time: Date.now() }));
  expect(await raw.zscore(OUTBOX_INDEX_KEY, channel)).toBe(null);
  const redis = await connect();
  const dispatcher = new WebhookDispatcher({
    config: { webhookUrls: [receiver.url], webhookSecret: WEBHOOK_SECRET, webhookGiveUpSeconds: 3600 },
    logger: sinkLogger().logger,
    store: new RedisOutboxStore(redis),
    timing: FAST,
  });
  closing.push(async () => {
    await dispatcher.close();
    redis.disconnect();
  });
  await eventually(() => receiver.events().length === 1, 'the orphaned transition was delivered');
  expect(receiver.events()[0]).toMatchObject({ kind: 'channel.occupied', channel });
});

test('every key of a channel\'s webhooks carries the channel as its cluster hash tag; only the work list is global', async () => {
  await raw.flushall();
  const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
  closing.push(() => receiver.close());
  receiver.answer = () => 500;
  const config = loadConfig({ REDIS_URL: server.url, WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET, LOG_LEVEL: 'silent' });
  const engine = createEngine({ config, logger: sinkLogger().logger }, { subscribe: false });
  closing.push(() => engine.close());
  await eventually(() => engine.health().ok, 'the engine is connected');
  const channel = freshChannel('tagged');
  const [result] = await engine.bus.publish([{ channel, data: '{"x":1}', ts: Date.now(), publisher: 'carol' }]);
  await eventually(() => receiver.received.length >= 1, 'the engine\'s own dispatcher tried to deliver');
  expect(receiver.received[0]!.events).toEqual([{ kind: 'client.publish', channel, time: expect.any(Number), id: result!.id, publisher: 'carol', data: { x: 1 } }]);
  const keys = (await raw.keys('*')).filter((k) => k !== OUTBOX_INDEX_KEY && !k.startsWith('er:webhooks:')).sort();
  expect(keys.every((k) => k.startsWith(`er:{${channel}}:`)), keys.join(' ')).toBe(true);
  // History, outbox, delivery state, and the lease while a dispatcher works on it.
  expect(keys.filter((k) => !k.endsWith(':wl'))).toEqual([`er:{${channel}}:s`, `er:{${channel}}:w`, `er:{${channel}}:wd`]);
});
