import { afterEach, describe, expect, test } from 'vitest';
import type { OutgoingEvent } from '../../services/engine/bus.js';
import { RelayError } from '../../services/protocol/errors.js';
import { compareEventIds } from '../../services/protocol/event-id.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { eventually, freshChannel, recorder, type Recorder } from '../support/recorder.js';
import { counter, redisBus, type BusUnderTest } from '../support/redis-bus.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const ev = (channel: string, data: unknown): OutgoingEvent => ({ channel, data: JSON.stringify(data), ts: Date.now() });

async function rejection(promise: Promise<unknown>): Promise<RelayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RelayError);
  return err as RelayError;
}

function expectOnceInOrder(handler: Recorder, data: unknown[]): void {
  expect(handler.data()).toEqual(data);
  const ids = handler.ids();
  for (let i = 1; i < ids.length; i++) expect(compareEventIds(ids[i - 1]!, ids[i]!)).toBeLessThan(0);
}

describe('RedisBus across Redis outages', () => {
  const cleanups: Array<() => Promise<void>> = [];
  const track = <T extends { cleanup?: () => Promise<void>; stop?: () => Promise<void>; close?: () => Promise<void> }>(thing: T): T => {
    cleanups.push(async () => {
      if ('cleanup' in thing && thing.cleanup) await thing.cleanup();
      else if ('close' in thing && thing.close) await thing.close();
      else if (thing.stop) await thing.stop();
    });
    return thing;
  };
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  const server = async (appendonly: boolean): Promise<RedisServerHandle> => track(await startRedisServer({ appendonly }));
  const bus = async (port: number, subscriberPort?: number): Promise<BusUnderTest> => track(await redisBus(port, {}, { subscriberPort }));
  const proxy = async (port: number): Promise<TcpProxy> => track(await startTcpProxy(port));

  test('events published while the subscriber connection was down are backfilled once, in order, and health recovers', async () => {
    const redis = await server(false);
    const cut = await proxy(redis.port);
    const b = await bus(redis.port, cut.port);
    const channel = freshChannel();
    const handler = recorder();
    await b.bus.subscribe(channel, handler);
    await b.bus.publish([ev(channel, 'a'), ev(channel, 'b')]);
    await eventually(() => handler.events.length === 2, 'a and b arrived');

    cut.cut();
    await eventually(() => !b.bus.health().ok, 'health reports the subscriber down');
    expect(b.bus.health().reason).toMatch(/subscriber/);
    await b.bus.publish([ev(channel, 'c'), ev(channel, 'd')]);
    await b.bus.publish([ev(channel, 'e')]);
    cut.restore();

    await eventually(() => b.bus.health().ok, 'health recovers');
    await b.bus.publish([ev(channel, 'f')]);
    await eventually(() => handler.events.length >= 6, 'every event arrived');
    expectOnceInOrder(handler, ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(handler.gaps).toEqual([]);
    expect(await counter(b.metrics, 'backfilledEvents')).toBe(3);
    expect(await counter(b.metrics, 'busReconnects')).toBe(1);
  });

  test('a live event that arrives while the channel is being backfilled is delivered after the backfill, nothing dropped', async () => {
    const redis = await server(false);
    const cut = await proxy(redis.port);
    const b = await bus(redis.port, cut.port);
    const channel = freshChannel();
    const handler = recorder();
    await b.bus.subscribe(channel, handler);
    await b.bus.publish([ev(channel, 'a')]);
    await eventually(() => handler.events.length === 1, 'a arrived');
    cut.cut();
    await eventually(() => !b.bus.health().ok, 'the subscriber is down');
    await b.bus.publish([ev(channel, 'b'), ev(channel, 'c')]);

    // Force the race: the first backfill read waits until a newer live event has reached the subscriber.
    const xrange = b.redis.xrange.bind(b.redis);
    let raced = false;
    b.redis.xrange = (async (...args: Parameters<typeof xrange>) => {
      if (!raced) {
        raced = true;
        const arrived = new Promise((resolve) => b.subscriber!.once('messageBuffer', resolve));
        await b.bus.publish([ev(channel, 'live-during-backfill')]);
        await arrived;
      }
      return xrange(...args);
    }) as typeof b.redis.xrange;
    cut.restore();

    await eventually(() => b.bus.health().ok, 'health recovers');
    expect(raced).toBe(true);
    await eventually(() => handler.events.length >= 4, 'every event arrived');
    expectOnceInOrder(handler, ['a', 'b', 'c', 'live-during-backfill']);
  });

  test('a Redis restart with AOF while subscribed loses nothing and duplicates nothing', async () => {
    const redis = await server(true);
    const cut = await proxy(redis.port);
    const b = await bus(redis.port, cut.port);
    const channel = freshChannel();
    const handler = recorder();
    await b.bus.subscribe(channel, handler);
    await b.bus.publish([ev(channel, 'before-1'), ev(channel, 'before-2')]);
    await eventually(() => handler.events.length === 2, 'the first events arrived');

    // Keep the subscriber away while Redis restarts, so that some events can only come back by backfill.
    cut.cut();
    await b.bus.publish([ev(channel, 'subscriber-down')]);
    await redis.restart();
    await eventually(() => b.redis.status === 'ready', 'the command connection is back');
    await b.bus.publish([ev(channel, 'after-restart')]);
    cut.restore();
    await eventually(() => b.bus.health().ok, 'health recovers');
    await b.bus.publish([ev(channel, 'live')]);
    await eventually(() => handler.events.length >= 5, 'every event arrived');
    expectOnceInOrder(handler, ['before-1', 'before-2', 'subscriber-down', 'after-restart', 'live']);
    expect(handler.gaps).toEqual([]);
    expect(await counter(b.metrics, 'backfilledEvents')).toBe(2);
  });

  test('a plain Redis restart with AOF resubscribes and delivers later events without a gap', async () => {
    const redis = await server(true);
    const b = await bus(redis.port);
    const channel = freshChannel();
    const handler = recorder();
    await b.bus.subscribe(channel, handler);
    await b.bus.publish([ev(channel, 1)]);
    await eventually(() => handler.events.length === 1, 'the first event arrived');
    await redis.restart();
    await eventually(() => b.bus.health().ok && b.redis.status === 'ready', 'health recovers');
    await b.bus.publish([ev(channel, 2)]);
    await eventually(() => handler.events.length >= 2, 'the later event arrived');
    expectOnceInOrder(handler, [1, 2]);
    expect(handler.gaps).toEqual([]);
  });

  test('a Redis restart without persistence reports a gap on every subscribed channel', async () => {
    const redis = await server(false);
    const b = await bus(redis.port);
    const [busy, empty] = [freshChannel('busy'), freshChannel('empty')];
    const handler = recorder();
    await b.bus.subscribe(busy, handler);
    await b.bus.subscribe(empty, handler);
    await b.bus.publish([ev(busy, 'lost')]);
    await eventually(() => handler.events.length === 1, 'the event arrived');
    await redis.restart();
    await eventually(() => handler.gaps.length >= 2, 'both gaps were reported');
    expect([...handler.gaps].sort()).toEqual([busy, empty].sort());
    expect(await counter(b.metrics, 'gaps')).toBe(2);
    await eventually(() => b.bus.health().ok, 'health recovers');
    await b.bus.publish([ev(busy, 'new')]);
    await eventually(() => handler.events.length >= 2, 'the new event arrived');
    expect(handler.data()).toEqual(['lost', 'new']);
  });

  test('while Redis is stopped, publish, history and subscribe reject unavailable at once, and work again after', async () => {
    const redis = await server(false);
    const b = await bus(redis.port);
    const channel = freshChannel();
    const [first] = await b.bus.publish([ev(channel, 1)]);
    const restarting = redis.restart({ downMs: 3000 });
    await eventually(() => b.redis.status !== 'ready', 'the connection notices');
    expect(b.bus.health()).toMatchObject({ ok: false });

    const published = await rejection(b.bus.publish([ev(channel, 2)]));
    expect(published.code).toBe('unavailable');
    expect(published.retryAfter).toBe(1);
    expect((await rejection(b.bus.history(channel, first!.id))).code).toBe('unavailable');
    expect((await rejection(b.bus.subscribe(channel, recorder()))).code).toBe('unavailable');

    await restarting;
    await eventually(() => b.bus.health().ok && b.redis.status === 'ready', 'health recovers');
    const handler = recorder();
    await b.bus.subscribe(channel, handler); // the failed subscribe left nothing behind
    await b.bus.publish([ev(channel, 3)]);
    await eventually(() => handler.events.length === 1, 'the event arrived');
  });

  test('a frozen Redis (SIGSTOP) makes publish reject unavailable instead of hanging', async () => {
    const redis = await server(false);
    const b = await bus(redis.port);
    const channel = freshChannel();
    redis.pause();
    try {
      expect((await rejection(b.bus.publish([ev(channel, 1)]))).code).toBe('unavailable');
    } finally {
      redis.resume();
    }
    await b.bus.publish([ev(channel, 2)]);
  });
});
