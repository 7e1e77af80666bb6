import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Transition } from '../../services/engine/outbox.js';
import { outboxKey } from '../../services/engine/redis/keys.js';
import { RedisRateLimiter } from '../../services/engine/redis/rate-limiter.js';
import { createRedisEngine } from '../../services/engine/redis/redis-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../../tools/redis-sentinel.js';
import { BusPublisher } from '../support/bus-publisher.js';
import { eventually, freshChannel, recorder, sinkLogger } from '../support/recorder.js';
import { sentinelEnv, topologyBus, type TopologyBus } from '../support/redis-topologies.js';
import { channelsContract } from './channels-contract.js';
import { connectionCounterContract } from './connection-counter-contract.js';
import { busContract } from './contract.js';
import { presenceContract } from './presence-contract.js';
import { rateLimiterContract } from './rate-limiter-contract.js';
import type { ReplicaFactory } from './replicas.js';

/**
 * The engine behind Redis Sentinel (a primary, two replicas, three
 * sentinels; passwords on both): the Bus, Presence and Channels contracts,
 * then failovers while a producer publishes throughout.
 */
const PASSWORD = 'data-pass-Rt5yU8iO';
const SENTINEL_PASSWORD = 'sentinel-pass-Mn2bV6cX';
let sentinel: RedisSentinelHandle;
let env: Record<string, string>;
let client: Redis;

beforeAll(async () => {
  sentinel = await startRedisSentinel({ password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
  env = sentinelEnv(sentinel);
  client = new Redis({ sentinels: sentinel.sentinels.map((s) => ({ ...s })), name: sentinel.name, password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD, protocol: 2 });
  // The failover tests below kill the primary under it.
  client.on('error', () => {});
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await sentinel?.stop();
});

busContract('RedisBus behind Redis Sentinel', async (overrides) => {
  const { bus, cleanup } = await topologyBus(env, overrides);
  return { bus, cleanup };
});

const sentinelReplicas: ReplicaFactory = async (count, overrides = {}) => {
  const config = { ...loadConfig({ ...env, CANARY_INTERVAL_SECONDS: '0' }), ...overrides };
  const replicas = Array.from({ length: count }, () => createRedisEngine({ config, logger: sinkLogger().logger }, { subscribe: true }));
  await Promise.all(replicas.map((r) => eventually(() => r.health().ok, 'the engine is ready', 20_000)));
  const inspector = new Redis({ sentinels: sentinel.sentinels.map((s) => ({ ...s })), name: sentinel.name, password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD, protocol: 2 });
  inspector.on('error', () => {});
  return {
    replicas,
    async outbox(channel) {
      const entries = (await inspector.xrange(outboxKey(channel), '-', '+')) as [string, string[]][];
      return entries.map(([, fields]) => JSON.parse(fields[1]!) as Transition);
    },
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
      inspector.disconnect();
    },
  };
};

presenceContract('the Redis engine behind Sentinel', sentinelReplicas);
channelsContract('the Redis engine behind Sentinel', sentinelReplicas);
connectionCounterContract('the Redis engine behind Sentinel', sentinelReplicas);
rateLimiterContract('redis behind Sentinel', async (limit, windowMs) => new RedisRateLimiter(client, { limit, windowMs }));

describe('a subscriber behind Redis Sentinel', () => {
  const open: TopologyBus[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.cleanup();
  });

  for (const waitReplicas of [0, 1]) {
    test(`follows a SIGKILLed primary to the promoted replica and keeps every stored event (REDIS_WAIT_REPLICAS=${waitReplicas}); publishes in between answer 503`, async () => {
      const subscriber = await topologyBus(env, { canaryIntervalSeconds: 0.5 });
      const publisher = await topologyBus(env, { redisWaitReplicas: waitReplicas, redisWaitTimeoutMs: 500 }, { subscribe: false });
      open.push(subscriber, publisher);
      const channel = freshChannel('sentinel');
      const handler = recorder();
      await subscriber.bus.subscribe(channel, handler);
      const producer = new BusPublisher(publisher.bus, channel).start();
      await eventually(() => handler.events.length >= 10, 'events flow');
      const { previous } = await sentinel.killPrimary();
      await eventually(() => publisher.bus.health().ok && subscriber.bus.health().ok, `both are ready again on the promoted primary (${publisher.bus.health().reason ?? ''} / ${subscriber.bus.health().reason ?? ''})`, 30_000);
      const after = handler.events.length;
      await eventually(() => handler.events.length >= after + 10, 'events flow again', 10_000);
      await producer.stop();
      const stored = (await subscriber.bus.history(channel, '0-0')).events.map((e) => e.id);
      await eventually(() => stored.every((id) => handler.ids().includes(id)), 'every stored event was delivered');
      const delivered = handler.ids();
      expect(new Set(delivered).size).toBe(delivered.length);
      expect(producer.unavailable, 'publishes while no primary answered were refused').toBeGreaterThan(0);
      const lost = producer.acknowledged.filter((id) => !stored.includes(id));
      // With WAIT every acknowledged event is on a replica, which the election prefers; without, a few may be lost, and then the subscriber was told.
      if (waitReplicas > 0) expect(lost).toEqual([]);
      if (lost.length > 0 || delivered.some((id) => !stored.includes(id))) expect(handler.gaps).toContain(channel);
      await sentinel.restart(previous);
    }, 60_000);
  }

  /*
   * SENTINEL FAILOVER promotes a replica without pausing the old primary: until the sentinels'
   * +switch-master reaches us (failoverDetector, ~1-2 s) writes still land on the old primary, whose
   * other replica acknowledges them, and the demotion then discards them. Only a WAIT for every
   * replica (the promoted one stops acknowledging at once) keeps a 200 from meaning "lost".
   */
  test('a graceful SENTINEL FAILOVER with REDIS_WAIT_REPLICAS = every replica loses no acknowledged event, and the subscriber is told of any it saw vanish', async () => {
    const subscriber = await topologyBus(env, { canaryIntervalSeconds: 0.5 });
    const publisher = await topologyBus(env, { redisWaitReplicas: 2, redisWaitTimeoutMs: 500 }, { subscribe: false });
    open.push(subscriber, publisher);
    const channel = freshChannel('graceful');
    const handler = recorder();
    await subscriber.bus.subscribe(channel, handler);
    const producer = new BusPublisher(publisher.bus, channel, 20).start();
    await eventually(() => handler.events.length >= 5, 'events flow');
    await sentinel.failover();
    const after = handler.events.length;
    await eventually(() => handler.events.length >= after + 5, 'events flow again', 10_000);
    await producer.stop();
    const stored = (await subscriber.bus.history(channel, '0-0')).events.map((e) => e.id);
    expect(producer.acknowledged.filter((id) => !stored.includes(id))).toEqual([]);
    await eventually(() => stored.every((id) => handler.ids().includes(id)), 'every stored event was delivered');
    if (handler.ids().some((id) => !stored.includes(id))) expect(handler.gaps).toContain(channel);
  }, 60_000);
});
