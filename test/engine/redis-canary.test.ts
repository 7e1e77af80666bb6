import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import type { OutgoingEvent } from '../../services/engine/bus.js';
import { EngineMetrics } from '../../services/engine/engine-metrics.js';
import { RedisBus } from '../../services/engine/redis/redis-bus.js';
import { redisClientOptions } from '../../services/engine/redis/options.js';
import { startRedisServer } from '../../tools/redis-server.js';
import { eventually, freshChannel, recorder, sinkLogger } from '../support/recorder.js';
import { busConfig, ready } from '../support/redis-bus.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

/** Fast canaries, so that a dead subscription is noticed within a second. */
const CANARY_INTERVAL_SECONDS = 0.1;

const ev = (channel: string, data: unknown): OutgoingEvent => ({ channel, data: JSON.stringify(data), ts: Date.now() });

describe('the Redis canary', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  /** A RedisBus whose subscriber connection goes through a proxy the test can stall, with the canary on. */
  async function busBehindProxy() {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const proxy = await startTcpProxy(server.port);
    cleanups.push(() => proxy.close());
    const config = { ...busConfig(), canaryIntervalSeconds: CANARY_INTERVAL_SECONDS };
    const redis = new Redis(server.url, redisClientOptions(config));
    redis.on('error', () => {});
    const subscriber = redis.duplicate({ port: proxy.port });
    subscriber.on('error', () => {});
    await Promise.all([ready(redis), ready(subscriber)]);
    const metrics = new EngineMetrics(new Registry(), { subscribe: true, webhooks: false });
    const { logger, lines } = sinkLogger();
    const bus = new RedisBus({ config, logger, metrics, redis, subscriber });
    cleanups.push(async () => {
      await bus.close();
      subscriber.disconnect();
      redis.disconnect();
    });
    // Health is sampled all along: a not-ok window may be shorter than any poll of the test.
    const reasons: string[] = [];
    const sampler = setInterval(() => {
      const health = bus.health();
      if (!health.ok) reasons.push(health.reason ?? '');
    }, 5);
    cleanups.push(async () => clearInterval(sampler));
    const count = async (name: 'canaryFailures' | 'busReconnects') => (await metrics[name].get()).values[0]?.value ?? 0;
    return { server, proxy, bus, redis, metrics, lines, reasons, count };
  }

  test('a subscriber connection that silently stops delivering is reported not ready, reconnected, and its missed events are backfilled once, in order', async () => {
    const { proxy, bus, reasons, count } = await busBehindProxy();
    const channel = freshChannel();
    const handler = recorder();
    await bus.subscribe(channel, handler);
    await bus.publish([ev(channel, 'a'), ev(channel, 'b')]);
    await eventually(() => handler.events.length === 2, 'a and b arrived');

    expect(proxy.stall()).toBe(1);
    await bus.publish([ev(channel, 'c'), ev(channel, 'd')]);
    await eventually(() => reasons.some((r) => /canaries/.test(r)), 'readiness reports the missed canaries');
    await eventually(() => handler.events.length === 4, 'c and d were backfilled');
    await eventually(() => bus.health().ok, 'health recovers by itself');
    await bus.publish([ev(channel, 'e')]);
    await eventually(() => handler.events.length === 5, 'e arrived live');

    expect(handler.data()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(handler.gaps).toEqual([]);
    expect(await count('canaryFailures')).toBe(1);
    expect(await count('busReconnects')).toBe(1);
  });

  test('a healthy subscriber connection never trips the canary', async () => {
    const { bus, reasons, count } = await busBehindProxy();
    const channel = freshChannel();
    const handler = recorder();
    await bus.subscribe(channel, handler);
    // Twenty canary periods of ordinary traffic.
    for (let i = 0; i < 20; i++) {
      await bus.publish([ev(channel, i)]);
      await new Promise((r) => setTimeout(r, CANARY_INTERVAL_SECONDS * 1000));
    }
    await eventually(() => handler.events.length === 20, 'every event arrived');
    expect(await count('canaryFailures')).toBe(0);
    expect(reasons).toEqual([]);
  });

  test('a subscription killed on the server side (CLIENT KILL TYPE pubsub) is resubscribed and nothing is missed', async () => {
    const { bus, redis, count } = await busBehindProxy();
    const channel = freshChannel();
    const handler = recorder();
    await bus.subscribe(channel, handler);
    await bus.publish([ev(channel, 'a')]);
    await eventually(() => handler.events.length === 1, 'a arrived');

    expect(Number(await redis.client('KILL', 'TYPE', 'PUBSUB'))).toBeGreaterThanOrEqual(1);
    await bus.publish([ev(channel, 'b')]);
    await eventually(() => handler.events.length === 2, 'b arrived, live or backfilled');
    await eventually(() => bus.health().ok, 'health recovers');
    await bus.publish([ev(channel, 'c')]);
    await eventually(() => handler.events.length === 3, 'c arrived live after the resubscribe');

    expect(handler.data()).toEqual(['a', 'b', 'c']);
    expect(await count('busReconnects')).toBe(1);
    expect(await count('canaryFailures')).toBe(0);
  });

  test('a frozen Redis (SIGSTOP) makes health not ok even for a bus without a subscriber, and it recovers on SIGCONT', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const config = { ...busConfig(), canaryIntervalSeconds: CANARY_INTERVAL_SECONDS };
    const redis = new Redis(server.url, redisClientOptions(config));
    redis.on('error', () => {});
    await ready(redis);
    const { logger } = sinkLogger();
    const bus = new RedisBus({ config, logger, redis });
    cleanups.push(async () => {
      await bus.close();
      redis.disconnect();
    });
    expect(bus.health()).toEqual({ ok: true });

    server.pause();
    await eventually(() => !bus.health().ok, 'health reports the unanswered canary');
    expect(bus.health().reason).toMatch(/canary/);
    server.resume();
    await eventually(() => bus.health().ok, 'health recovers by itself');
  });
});
