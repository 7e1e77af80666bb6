import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { OutgoingEvent } from '../../services/engine/bus.js';
import { channelSlot } from '../../services/engine/redis/cluster/slots.js';
import { RelayError } from '../../services/protocol/errors.js';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { BusPublisher } from '../support/bus-publisher.js';
import { eventually, recorder, type Recorder } from '../support/recorder.js';
import { channelOn, clusterEnv, masterPorts, topologyBus, type TopologyBus } from '../support/redis-topologies.js';

/**
 * A subscriber on a Redis Cluster keeps every event across the topology
 * changes a Cluster goes through (a master killed and its replica promoted,
 * a graceful CLUSTER FAILOVER, a slot migrated to another master) while a
 * producer publishes throughout: after each, the delivered ids are exactly
 * the stream's, in order, none twice. One cluster; every test leaves it healthy.
 */
let cluster: RedisClusterHandle;
let env: Record<string, string>;

beforeAll(async () => {
  cluster = await startRedisCluster();
  env = clusterEnv(cluster);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const ev = (channel: string, data: unknown): OutgoingEvent => ({ channel, data: JSON.stringify(data), ts: Date.now() });

describe('a subscriber on a Redis Cluster', () => {
  const open: TopologyBus[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.cleanup();
    await cluster.waitHealthy();
  });
  const buses = async () => {
    const subscriber = await topologyBus(env, { canaryIntervalSeconds: 0.5 });
    const publisher = await topologyBus(env, {}, { subscribe: false });
    open.push(subscriber, publisher);
    return { subscriber, publisher };
  };

  /** Every event the stream holds was delivered once, in order; anything delivered beyond it was told as a gap. */
  async function expectContinuity(sub: TopologyBus, handler: Recorder, channel: string, acknowledged: string[]): Promise<void> {
    await eventually(async () => {
      const stored = (await sub.bus.history(channel, '0-0')).events.map((e) => e.id);
      return stored.every((id) => handler.ids().includes(id));
    }, 'every stored event was delivered', 20_000);
    const stored = (await sub.bus.history(channel, '0-0')).events.map((e) => e.id);
    const delivered = handler.ids();
    expect(new Set(delivered).size, 'no event delivered twice').toBe(delivered.length);
    expect([...delivered].sort(sub.bus.ids.compare as never)).toEqual(delivered);
    const extra = delivered.filter((id) => !stored.includes(id));
    if (extra.length > 0) expect(handler.gaps, 'an event delivered then lost by the failover was told as a gap').toContain(channel);
    for (const id of acknowledged) if (!stored.includes(id)) expect(handler.gaps).toContain(channel);
  }

  test('keeps every event across a SIGKILL of its channel\'s master (the replica is promoted), and readiness names the dead shard meanwhile', async () => {
    const { subscriber, publisher } = await buses();
    const [victim] = await masterPorts(cluster);
    const channel = await channelOn(cluster, victim!, 'killed');
    const handler = recorder();
    await subscriber.bus.subscribe(channel, handler);
    const producer = new BusPublisher(publisher.bus, channel).start();
    await eventually(() => handler.events.length >= 10, 'events flow');
    await cluster.kill(victim!);
    await eventually(() => !subscriber.bus.health().ok, 'readiness goes off', 10_000);
    expect(subscriber.bus.health().reason).toContain(`:${victim}`);
    await eventually(() => subscriber.bus.health().ok, 'readiness comes back after the promotion', 20_000);
    const after = handler.events.length;
    await eventually(() => handler.events.length >= after + 10, 'events flow again from the promoted master', 10_000);
    await producer.stop();
    await expectContinuity(subscriber, handler, channel, producer.acknowledged);
    expect(producer.unavailable, 'publishes to the dead master were refused, not lost').toBeGreaterThan(0);
    await cluster.restart(victim!);
  });

  test('keeps every event across a graceful CLUSTER FAILOVER, without a gap', async () => {
    const { subscriber, publisher } = await buses();
    const [master] = await masterPorts(cluster);
    const replica = (await cluster.nodes()).find((n) => n.role === 'replica' && n.masterPort === master)!;
    const channel = await channelOn(cluster, master!, 'failover');
    const handler = recorder();
    await subscriber.bus.subscribe(channel, handler);
    const producer = new BusPublisher(publisher.bus, channel).start();
    await eventually(() => handler.events.length >= 10, 'events flow');
    await cluster.failover(replica.port);
    const after = handler.events.length;
    await eventually(() => handler.events.length >= after + 10, 'events flow again from the new master', 10_000);
    await producer.stop();
    await expectContinuity(subscriber, handler, channel, producer.acknowledged);
    expect(handler.gaps).toEqual([]);
    expect(await cluster.masterOf(channelSlot(channel))).toBe(replica.port);
  });

  test('keeps every event across a migration of its channel\'s slot to another master, without a gap', async () => {
    const { subscriber, publisher } = await buses();
    const [from, to] = await masterPorts(cluster);
    const channel = await channelOn(cluster, from!, 'migrated');
    const quiet = await channelOn(cluster, to!, 'quiet');
    const [handler, quietHandler] = [recorder(), recorder()];
    await subscriber.bus.subscribe(channel, handler);
    await subscriber.bus.subscribe(quiet, quietHandler);
    const producer = new BusPublisher(publisher.bus, channel).start();
    await eventually(() => handler.events.length >= 10, 'events flow');
    await cluster.migrateSlot(channelSlot(channel), to!);
    const after = handler.events.length;
    await eventually(() => handler.events.length >= after + 10, 'events flow again from the new owner', 10_000);
    await producer.stop();
    await expectContinuity(subscriber, handler, channel, producer.acknowledged);
    expect(handler.gaps).toEqual([]);
    // The channel now shares the target's one pub/sub connection with the channels already there.
    const [quietEvent] = await publisher.bus.publish([ev(quiet, 'still here')]);
    await eventually(() => quietHandler.ids().includes(quietEvent!.id), 'the other channel on that master still delivers');
  });

  test('a batch over three masters while one is down is stored on the others and the 503 lists exactly which events', async () => {
    const { publisher } = await buses();
    const masters = await masterPorts(cluster);
    const channels = await Promise.all(masters.map((port) => channelOn(cluster, port, 'partial')));
    await cluster.kill(masters[1]!);
    let error: RelayError | undefined;
    // Until the cluster notices, the dead master's node connection may still look usable: try until it fails that way.
    await eventually(async () => {
      error = (await publisher.bus.publish(channels.map((c, i) => ev(c, i))).catch((err: unknown) => err)) as RelayError;
      return error instanceof RelayError && error.results !== undefined;
    }, 'a publish meets the dead master', 10_000);
    expect(error!.code).toBe('unavailable');
    const results = error!.results!;
    expect(results.map((r) => r.channel)).toEqual(channels);
    expect(results[1]!.id).toBeUndefined();
    expect(results[1]!.error?.code).toBe('unavailable');
    for (const i of [0, 2]) {
      expect(results[i]!.error).toBeUndefined();
      const held = (await publisher.bus.history(channels[i]!, '0-0')).events.map((e) => e.id);
      expect(held).toContain(results[i]!.id);
    }
    await eventually(() => publisher.bus.health().ok, 'the promoted replica serves the slot', 20_000);
    await cluster.restart(masters[1]!);
  });
});
