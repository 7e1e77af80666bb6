import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../../tools/redis-sentinel.js';
import { redisCommand } from '../../tools/redis-process.js';

// The harnesses for issue #12, proven against real redis-server 7 processes and real ioredis clients.
// Each suite shares one deployment; the tests run in order and each leaves it healthy for the next.

const PASSWORD = 'topology-secret';
const SLOT_COUNT = 16_384;

function nextMessage(client: Cluster, channel: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (from: string, message: string) => {
      if (from !== channel) return;
      client.off('smessage', onMessage);
      resolve(message);
    };
    client.on('smessage', onMessage);
  });
}

describe('a local Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ password: PASSWORD });
    console.log(`cluster of 6 nodes started in ${cluster.startMs} ms`);
    client = new Cluster([...cluster.seeds], { shardedSubscribers: true, redisOptions: { password: PASSWORD } });
    client.on('error', () => {}); // connection errors while a node is down are expected; the assertions say what matters
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  const masters = async () => (await cluster.nodes()).filter((n) => n.role === 'master' && n.slots.length > 0);

  test('starts three masters, each with one running replica, covering every slot once', async () => {
    const nodes = await cluster.nodes();
    const primaries = nodes.filter((n) => n.role === 'master');
    expect(primaries).toHaveLength(3);
    expect(nodes.every((n) => n.running && n.pid !== undefined && !n.failed)).toBe(true);
    const replicas = nodes.filter((n) => n.role === 'replica');
    expect(replicas.map((r) => r.masterPort).sort()).toEqual(primaries.map((p) => p.port).sort());
    const slotCount = primaries.flatMap((p) => p.slots).reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    expect(slotCount).toBe(SLOT_COUNT);
  });

  test('a cluster client writes a key on every master, and each key lives on the master its slot names', async () => {
    for (const master of await masters()) {
      const key = await cluster.keyOn(master.port, 'topology');
      expect(await cluster.masterOf(key)).toBe(master.port);
      await client.set(key, `on-${master.port}`);
      expect(await client.get(key)).toBe(`on-${master.port}`);
      // Read straight from that master: the value really is on the shard the harness says owns it.
      expect(await redisCommand(master.port, ['GET', key], { password: PASSWORD })).toBe(`on-${master.port}`);
    }
  });

  test('a sharded message published on each shard reaches the sharded subscriber', async () => {
    for (const master of await masters()) {
      const channel = await cluster.keyOn(master.port, 'events:');
      await client.ssubscribe(channel);
      const received = nextMessage(client, channel);
      await client.spublish(channel, `hello ${channel}`);
      expect(await received).toBe(`hello ${channel}`);
    }
  });

  test('a SIGKILLed master is replaced by its replica, which kept the write the master had replicated', async () => {
    const [victim] = await masters();
    const replica = (await cluster.nodes()).find((n) => n.masterPort === victim!.port)!;
    const key = await cluster.keyOn(victim!.port, 'durable');
    const direct = new Redis({ port: victim!.port, host: '127.0.0.1', password: PASSWORD });
    await direct.set(key, 'kept');
    expect(await direct.call('WAIT', 1, 5_000)).toBe(1); // the replica has it before the kill
    direct.disconnect();

    const killedAt = Date.now();
    await cluster.kill(victim!.port);
    await cluster.waitHealthy();
    console.log(`cluster failover after SIGKILL of a master: ${Date.now() - killedAt} ms`);

    expect(await cluster.masterOf(key)).toBe(replica.port);
    expect((await cluster.node(victim!.port)).running).toBe(false);
    expect(await client.get(key)).toBe('kept');

    await cluster.restart(victim!.port);
    const returned = await cluster.node(victim!.port);
    expect(returned).toMatchObject({ role: 'replica', masterPort: replica.port, running: true });
  });

  test('a graceful failover swaps a master and its replica', async () => {
    const [master] = await masters();
    const replica = (await cluster.nodes()).find((n) => n.masterPort === master!.port)!;
    await cluster.failover(replica.port);
    expect(await cluster.node(replica.port)).toMatchObject({ role: 'master', slots: master!.slots });
    expect(await cluster.node(master!.port)).toMatchObject({ role: 'replica', masterPort: replica.port });
  });

  test('a migrated slot moves its key to the new master, and the old one answers MOVED', async () => {
    const [from, to] = await masters();
    const key = await cluster.keyOn(from!.port, 'migrating');
    await client.set(key, 'moved along');
    await cluster.migrateSlot(await cluster.slotOf(key), to!.port);

    expect(await cluster.masterOf(key)).toBe(to!.port);
    expect(await redisCommand(to!.port, ['GET', key], { password: PASSWORD })).toBe('moved along');
    await expect(redisCommand(from!.port, ['GET', key], { password: PASSWORD })).rejects.toThrow(/MOVED/);
    expect(await client.get(key)).toBe('moved along');
  });
});

describe('a local Sentinel deployment', () => {
  let deployment: RedisSentinelHandle;

  beforeAll(async () => {
    deployment = await startRedisSentinel({ password: PASSWORD, sentinelPassword: 'sentinel-secret' });
    console.log(`sentinel deployment (3 data nodes, 3 sentinels) started in ${deployment.startMs} ms`);
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  test('starts one primary and two replicas, and every sentinel names the primary', async () => {
    const primary = await deployment.primary();
    expect(primary.port).toBe(deployment.servers[0]);
    const roles = await Promise.all(deployment.servers.map((port) => deployment.role(port)));
    expect(roles).toEqual(['master', 'replica', 'replica']);
    expect(deployment.sentinels).toHaveLength(3);
  });

  test('a sentinel client follows a SIGKILLed primary to the promoted replica and writes again', async () => {
    const client = new Redis({
      sentinels: [...deployment.sentinels], name: deployment.name,
      password: PASSWORD, sentinelPassword: 'sentinel-secret',
    });
    client.on('error', () => {}); // ECONNREFUSED from the killed primary until the sentinels name the new one
    try {
      await client.set('before', 'failover');
      expect(await client.call('WAIT', 2, 5_000)).toBe(2);
      const servedBy = async () => Number(((await client.call('CONFIG', 'GET', 'port')) as string[])[1]);
      expect(await servedBy()).toBe(deployment.servers[0]);

      const { previous, current, failoverMs } = await deployment.killPrimary();
      console.log(`sentinel failover after SIGKILL of the primary: ${failoverMs} ms`);
      expect(current).not.toBe(previous);
      expect(await deployment.role(current)).toBe('master');

      await client.set('after', 'failover');
      expect(await servedBy()).toBe(current);
      expect(await client.get('before')).toBe('failover');
      expect(await redisCommand(current, ['GET', 'after'], { password: PASSWORD })).toBe('failover');
    } finally {
      client.disconnect();
    }
  });

  test('a graceful failover demotes the primary to a replica of the promoted one', async () => {
    const { previous, current } = await deployment.failover();
    expect(current).not.toBe(previous);
    expect(await deployment.role(current)).toBe('master');
    expect(await deployment.role(previous)).toBe('replica');
  });
});
