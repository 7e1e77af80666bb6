import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { OutgoingEvent } from '../../services/engine/bus.js';
import { channelSlot } from '../../services/engine/redis/cluster/slots.js';
import { transitionJson } from '../../services/engine/outbox.js';
import { OUTBOX_INDEX_KEY, outboxKey, outboxStateKey } from '../../services/engine/redis/keys.js';
import { markOutbox } from '../../services/engine/redis/outbox-mark.js';
import { RedisOutboxStore } from '../../services/engine/redis/webhook-outbox.js';
import { RedisRateLimiter } from '../../services/engine/redis/rate-limiter.js';
import { createRedisEngine } from '../../services/engine/redis/redis-engine.js';
import type { Transition } from '../../services/engine/outbox.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { redisCommand } from '../../tools/redis-process.js';
import { eventually, freshChannel, recorder, sinkLogger } from '../support/recorder.js';
import { channelOn, clusterEnv, masterPorts, topologyBus, type TopologyBus } from '../support/redis-topologies.js';
import { channelsContract } from './channels-contract.js';
import { connectionCounterContract } from './connection-counter-contract.js';
import { busContract } from './contract.js';
import { presenceContract } from './presence-contract.js';
import { rateLimiterContract } from './rate-limiter-contract.js';
import type { ReplicaFactory } from './replicas.js';
import { webhooksContract } from './webhooks-contract.js';

/**
 * The engine on a real 3-master Redis Cluster (3 + 3 replicas, with a
 * password): the Bus, Presence and Channels contracts, and what only a
 * Cluster has (slots, shards, sharded pub/sub). Topology changes are in
 * redis-cluster-failover.test.ts.
 */
const PASSWORD = 'cluster-pass-Wq3eR7tY';
let cluster: RedisClusterHandle;
let env: Record<string, string>;
let client: InstanceType<typeof Redis.Cluster>;

beforeAll(async () => {
  cluster = await startRedisCluster({ password: PASSWORD });
  env = clusterEnv(cluster);
  client = new Redis.Cluster(cluster.seeds.map((s) => ({ ...s })), { redisOptions: { password: PASSWORD, protocol: 2 } });
  client.on('error', () => {});
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

const ev = (channel: string, data: unknown, idempotencyKey?: string): OutgoingEvent => ({
  channel,
  data: JSON.stringify(data),
  ts: Date.now(),
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

busContract('RedisBus on a 3-master Redis Cluster', async (overrides) => {
  const { bus, cleanup } = await topologyBus(env, overrides);
  return { bus, cleanup };
});

/** Replicas as separate client-servers would be, each an engine on the cluster. */
const clusterReplicas: ReplicaFactory = async (count, overrides = {}) => {
  const config = { ...loadConfig({ ...env, CANARY_INTERVAL_SECONDS: '0' }), ...overrides };
  const replicas = Array.from({ length: count }, () => createRedisEngine({ config, logger: sinkLogger().logger }, { subscribe: true }));
  await Promise.all(replicas.map((r) => eventually(() => r.health().ok, 'the engine is ready', 20_000)));
  const inspector = new Redis.Cluster(cluster.seeds.map((s) => ({ ...s })), { redisOptions: { password: PASSWORD, protocol: 2 } });
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

presenceContract('the Redis engine on a Redis Cluster', clusterReplicas);

// Outboxes live on their channel's slot, the work list on another: marks, scripts and the repair's SCAN (per master) on a Cluster.
webhooksContract('a Redis Cluster', async () => {
  // Before the client has its slot map, nodes() lists the seed connections it is about to replace.
  if (client.status !== 'ready') await once(client, 'ready');
  await Promise.all(client.nodes('master').map((node) => node.flushall()));
  const { bus, cleanup } = await topologyBus(env, { webhookUrls: ['http://127.0.0.1:9/unused'] }, { subscribe: false });
  const stores: Array<InstanceType<typeof Redis.Cluster>> = [];
  return {
    async append(t) {
      await markOutbox(client, t.channel, Date.now());
      await client.xadd(outboxKey(t.channel), '*', 'j', transitionJson(t));
      await markOutbox(client, t.channel, Date.now());
    },
    publishClient: async (channel, data, publisher) => (await bus.publish([{ channel, data, ts: Date.now(), publisher }]))[0]!.id,
    publishSource: async (channel, data) => void (await bus.publish([{ channel, data, ts: Date.now() }])),
    store() {
      const own = new Redis.Cluster(cluster.seeds.map((s) => ({ ...s })), { redisOptions: { password: PASSWORD, protocol: 2 } });
      own.on('error', () => {});
      stores.push(own);
      return new RedisOutboxStore(own);
    },
    outbox: async (channel) => (await client.xrange(outboxKey(channel), '-', '+')).map(([, fields]) => fields[1]!),
    drained: async (channel) =>
      (await client.exists(outboxKey(channel), outboxStateKey(channel))) === 0 && (await client.zscore(OUTBOX_INDEX_KEY, channel)) === null,
    async cleanup() {
      await cleanup();
      for (const c of stores) c.disconnect();
    },
  };
});
channelsContract('the Redis engine on a Redis Cluster', clusterReplicas);
connectionCounterContract('the Redis engine on a Redis Cluster', clusterReplicas);
rateLimiterContract('redis on a Redis Cluster', async (limit, windowMs) => new RedisRateLimiter(client, { limit, windowMs }));

describe('the Redis bus on a Redis Cluster', () => {
  const open: TopologyBus[] = [];
  const make = async (...args: Parameters<typeof topologyBus> extends [unknown, ...infer R] ? R : never) => {
    const made = await topologyBus(env, ...args);
    open.push(made);
    return made;
  };
  afterEach(async () => {
    while (open.length) await open.pop()!.cleanup();
  });

  test('a client-server holds one pub/sub connection per master, however many channels it subscribes, on every shard', async () => {
    const { bus } = await make();
    const masters = await masterPorts(cluster);
    expect(masters).toHaveLength(3);
    const channels = Array.from({ length: 30 }, () => freshChannel('many'));
    const handlers = channels.map(() => recorder());
    await Promise.all(channels.map((c, i) => bus.subscribe(c, handlers[i]!)));
    const owners = new Set(await Promise.all(channels.map((c) => cluster.masterOf(channelSlot(c)))));
    expect(owners.size, 'the channels spread over every master').toBe(3);
    for (const port of masters) {
      const list = String(await redisCommand(port, ['CLIENT', 'LIST', 'TYPE', 'pubsub'], { password: PASSWORD }));
      expect(list.split('\n').filter((l) => l.includes('name=eventrelay-pubsub')), `master ${port}`).toHaveLength(1);
    }
    const results = await bus.publish(channels.map((c, i) => ev(c, i)));
    await eventually(() => handlers.every((h) => h.events.length === 1), 'every channel got its event');
    handlers.forEach((h, i) => expect(h.ids()).toEqual([results[i]!.id]));
  });

  test('every name of a channel lives on the master of its slot, and the event is delivered by SPUBLISH from there', async () => {
    const { bus } = await make();
    for (const port of await masterPorts(cluster)) {
      const channel = await channelOn(cluster, port, 'on');
      const handler = recorder();
      await bus.subscribe(channel, handler);
      const [result] = await bus.publish([ev(channel, { on: port }, 'k1')]);
      await eventually(() => handler.events.length === 1, `the event on ${port} arrived`);
      expect(await redisCommand(port, ['EXISTS', `er:{${channel}}:s`, `er:{${channel}}:i:k1`], { password: PASSWORD })).toBe(2);
      expect(await redisCommand(port, ['PUBSUB', 'SHARDNUMSUB', `er:{${channel}}:t`], { password: PASSWORD })).toEqual([`er:{${channel}}:t`, 1]);
      expect(handler.ids()).toEqual([result!.id]);
    }
  });

  test('a batch over three masters is stored per slot and answers every result in request order', async () => {
    const { bus } = await make();
    const [a, b, c] = await Promise.all((await masterPorts(cluster)).map((port) => channelOn(cluster, port, 'batch')));
    const results = await bus.publish([ev(a!, 1), ev(b!, 2), ev(a!, 3), ev(c!, 4), ev(b!, 5, 'k'), ev(b!, 6, 'k')]);
    expect(results.map((r) => r.channel)).toEqual([a, b, a, c, b, b]);
    expect(results.map((r) => r.replayed)).toEqual([false, false, false, false, false, true]);
    expect(results[5]!.id).toBe(results[4]!.id);
    expect((await bus.history(a!, '0-0')).events.map((e) => e.id)).toEqual([results[0]!.id, results[2]!.id]);
    expect((await bus.history(b!, '0-0')).events.map((e) => e.id)).toEqual([results[1]!.id, results[4]!.id]);
  });

  test('with REDIS_WAIT_REPLICAS=1 a publish resolves only once the replica of its slot master holds the event', async () => {
    const { bus } = await make({ redisWaitReplicas: 1, redisWaitTimeoutMs: 2000 });
    for (const port of await masterPorts(cluster)) {
      const replica = (await cluster.nodes()).find((n) => n.role === 'replica' && n.masterPort === port)!;
      const channel = await channelOn(cluster, port, 'wait');
      const [result] = await bus.publish([ev(channel, 1)]);
      // Read from the replica itself: READONLY lets it serve its master's slots.
      const reader = new Redis({ port: replica.port, password: PASSWORD, protocol: 2 });
      try {
        await reader.call('READONLY');
        const entries = (await reader.xrange(`er:{${channel}}:s`, '-', '+')) as [string, string[]][];
        expect(entries.map(([id]) => id)).toEqual([result!.id]);
      } finally {
        reader.disconnect();
      }
    }
  });

  test('a publisher that asks for more replicas than a shard has gets 503, its events stored and listed with their ids', async () => {
    const { bus } = await make({ redisWaitReplicas: 2, redisWaitTimeoutMs: 100 });
    const [a, b] = await Promise.all((await masterPorts(cluster)).slice(0, 2).map((port) => channelOn(cluster, port, 'short')));
    const error = (await bus.publish([ev(a!, 1), ev(b!, 2)]).catch((err: unknown) => err)) as { code: string; results: Array<{ channel: string; id?: string; error?: { code: string } }> };
    expect(error.code).toBe('unavailable');
    expect(error.results.map((r) => r.channel)).toEqual([a, b]);
    for (const r of error.results) {
      expect(r.id).toMatch(/^\d+-\d+$/);
      expect(r.error?.code).toBe('unavailable');
    }
    expect((await bus.history(a!, '0-0')).events.map((e) => e.id)).toEqual([error.results[0]!.id]);
  });

  test('a source-server bus (no subscriber) is ready on a healthy cluster and holds no pub/sub connection', async () => {
    const { bus } = await make({ canaryIntervalSeconds: 0.2 }, { subscribe: false });
    const [result] = await bus.publish([ev(freshChannel('source'), 1)]);
    expect(result!.id).toMatch(/^\d+-\d+$/);
    await new Promise((r) => setTimeout(r, 600));
    expect(bus.health()).toEqual({ ok: true });
    for (const port of await masterPorts(cluster)) {
      const list = String(await redisCommand(port, ['CLIENT', 'LIST', 'TYPE', 'pubsub'], { password: PASSWORD }));
      expect(list).not.toContain('name=eventrelay-pubsub');
    }
  });
});
