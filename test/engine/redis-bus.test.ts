import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { OutgoingEvent } from '../../services/engine/bus.js';
import { RelayError } from '../../services/protocol/errors.js';
import { encodeBusMessage } from '../../services/engine/redis/bus-message.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { busContract } from './contract.js';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { eventually, freshChannel, recorder, sinkLogger } from '../support/recorder.js';
import { busConfig, redisBus, ready, type BusUnderTest } from '../support/redis-bus.js';

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

busContract('RedisBus', async (overrides) => {
  const { bus, cleanup } = await redisBus(server.port, overrides);
  return { bus, cleanup };
});

const ev = (channel: string, data: unknown, idempotencyKey?: string): OutgoingEvent => ({
  channel,
  data: JSON.stringify(data),
  ts: Date.now(),
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

describe('RedisBus on a real Redis', () => {
  const open: BusUnderTest[] = [];
  const make = async (...args: Parameters<typeof redisBus> extends [number, ...infer R] ? R : never) => {
    const made = await redisBus(server.port, ...args);
    open.push(made);
    return made;
  };
  afterEach(async () => {
    while (open.length) await open.pop()!.cleanup();
  });

  test('every key and topic of a channel carries the channel as a cluster hash tag', async () => {
    const { bus } = await make();
    const channel = freshChannel('orders:eu');
    await bus.subscribe(channel, recorder());
    const [result] = await bus.publish([ev(channel, { n: 1 }, 'retry-1')]);
    expect((await raw.keys(`*${channel}*`)).sort()).toEqual([`er:{${channel}}:i:retry-1`, `er:{${channel}}:s`]);
    expect(await raw.type(`er:{${channel}}:s`)).toBe('stream');
    expect(await raw.get(`er:{${channel}}:i:retry-1`)).toBe(result!.id);
    expect(await raw.pubsub('CHANNELS', `*${channel}*`)).toEqual([`er:{${channel}}:t`]);
  });

  test('the stream is trimmed near HISTORY_SIZE and expires after HISTORY_TTL_SECONDS idle', async () => {
    const { bus } = await make({ historySize: 50, historyTtlSeconds: 600, idempotencyTtlSeconds: 300 });
    const channel = freshChannel();
    for (let i = 0; i < 4; i++) await bus.publish(Array.from({ length: 100 }, (_, n) => ev(channel, n)));
    await bus.publish([ev(channel, 'keyed', 'k')]);
    const length = await raw.xlen(`er:{${channel}}:s`);
    // At least HISTORY_SIZE; approximate trimming may keep up to one stream node (100 entries) more.
    expect(length).toBeGreaterThanOrEqual(50);
    expect(length).toBeLessThanOrEqual(150);
    const ttl = await raw.ttl(`er:{${channel}}:s`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
    const keyTtl = await raw.ttl(`er:{${channel}}:i:k`);
    expect(keyTtl).toBeGreaterThan(0);
    expect(keyTtl).toBeLessThanOrEqual(300);
  });

  test('HISTORY_TTL_SECONDS=0 keeps the stream without expiry', async () => {
    const { bus } = await make({ historyTtlSeconds: 0 });
    const channel = freshChannel();
    await bus.publish([ev(channel, 1)]);
    expect(await raw.ttl(`er:{${channel}}:s`)).toBe(-1);
  });

  test('without replicas to wait for, publish does not WAIT', async () => {
    const { bus } = await make({ redisWaitReplicas: 0 });
    await raw.config('RESETSTAT');
    await bus.publish([ev(freshChannel(), 1)]);
    expect(await raw.info('commandstats')).not.toContain('cmdstat_wait');
  });

  test('waiting for a replica that does not exist answers unavailable, and the event is stored for a keyed retry', async () => {
    const { bus } = await make({ redisWaitReplicas: 1, redisWaitTimeoutMs: 50 });
    const channel = freshChannel();
    const error = await bus.publish([ev(channel, 1, 'once')]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).code).toBe('unavailable');
    expect((error as RelayError).retryAfter).toBe(1);
    expect(await raw.xlen(`er:{${channel}}:s`)).toBe(1);
    expect(await raw.get(`er:{${channel}}:i:once`)).toMatch(/^\d+-\d+$/);
  });

  test('the publish script sends live exactly the bus message the subscriber decodes', async () => {
    const { bus } = await make();
    const channel = freshChannel();
    const listener = raw.duplicate();
    onTestFinished(() => listener.disconnect());
    const heard: Buffer[] = [];
    listener.on('messageBuffer', (_topic: Buffer, message: Buffer) => heard.push(message));
    await listener.subscribe(`er:{${channel}}:t`);
    const [result] = await bus.publish([{ channel, data: '{"n":1.50}', ts: 1_700_000_000_123 }]);
    await eventually(() => heard.length === 1, 'the live message arrived');
    expect(heard[0]!.equals(encodeBusMessage(result!.id, 1_700_000_000_123, '', '{"n":1.50}'))).toBe(true);
  });

  test('a malformed or repeated bus message is logged and dropped, never delivered or thrown', async () => {
    const { bus, lines } = await make();
    const channel = freshChannel();
    const handler = recorder();
    await bus.subscribe(channel, handler);
    const [first] = await bus.publish([ev(channel, 'first')]);
    await eventually(() => handler.events.length === 1, 'the first event arrived');
    const topic = `er:{${channel}}:t`;
    await raw.publish(topic, 'not a frame');
    await raw.publish(topic, encodeBusMessage('nonsense', 1, '', '1'));
    await raw.publish(topic, encodeBusMessage(first!.id, handler.events[0]!.ts, '', '"first"')); // the same id again
    await bus.publish([ev(channel, 'second')]);
    await eventually(() => handler.events.length >= 2, 'the second event arrived');
    expect(handler.data()).toEqual(['first', 'second']);
    expect(handler.ids()[0]).toBe(first!.id);
    expect(lines.filter((l) => l.msg === 'dropped a malformed bus message')).toHaveLength(2);
  });

  test('a bus without a subscriber connection publishes and reads history but cannot subscribe', async () => {
    const { bus } = await make({}, { subscribe: false });
    const channel = freshChannel();
    const [result] = await bus.publish([ev(channel, 1)]);
    expect(await bus.history(channel, result!.id)).toEqual({ recovered: true, events: [] });
    expect(bus.health()).toEqual({ ok: true });
    await expect(bus.subscribe(channel, recorder())).rejects.toThrow(/subscriber/);
  });

  test('history since an id Redis cannot parse is not recovered and empty', async () => {
    const { bus } = await make();
    const channel = freshChannel();
    await bus.publish([ev(channel, 1)]);
    expect(await bus.history(channel, '99999999999999999999-0')).toEqual({ recovered: false, events: [] });
  });

  test('close releases exactly the listeners and subscriptions the bus registered', async () => {
    const { bus, subscriber } = await make();
    const before = ['messageBuffer', 'close', 'ready'].map((e) => subscriber!.listenerCount(e));
    // A second bus on the same connections, as the embedded mode may build.
    const other = new RedisBus({ config: busConfig(), logger: sinkLogger().logger, redis: raw, subscriber: subscriber! });
    const channel = freshChannel();
    await other.subscribe(channel, recorder());
    expect(await raw.pubsub('CHANNELS', `*${channel}*`)).toHaveLength(1);
    await other.close();
    expect(['messageBuffer', 'close', 'ready'].map((e) => subscriber!.listenerCount(e))).toEqual(before);
    expect(await raw.pubsub('CHANNELS', `*${channel}*`)).toEqual([]);
    expect(subscriber!.status).toBe('ready');
    expect(raw.status).toBe('ready');
    expect(bus.health()).toEqual({ ok: true });
  });
});
