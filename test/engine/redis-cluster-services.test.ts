import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { startServices, type Services } from '../support/local-stack.js';
import { eventually } from '../support/recorder.js';
import { channelOn, clusterEnv, masterPorts } from '../support/redis-topologies.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * Both services as real processes on a 3-master Cluster, seen as a producer
 * and a subscriber see them. What pointing REDIS_URL at one node of the same
 * cluster used to do instead: channels of the other nodes answered 503
 * (MOVED), subscribing answered "Redis is unreachable", a batch over three
 * channels answered 503 with the first one stored, and after a CLUSTER
 * FAILOVER every publish answered 503 while /readyz said 200.
 */
let cluster: RedisClusterHandle;
let services: Services;
let token: string;

beforeAll(async () => {
  cluster = await startRedisCluster();
  services = await startServices({ ...clusterEnv(cluster), CANARY_INTERVAL_SECONDS: '0.5' }, { fromSource: true });
  token = signSubscriberToken(services.jwtSecret, { channels: ['*'], ttlSeconds: 600 });
}, 90_000);
afterAll(async () => {
  await services?.stop();
  await cluster?.stop();
});

async function publish(channel: string, data: unknown): Promise<Response> {
  return fetch(`${services.sourceUrl}/v1/channels/${channel}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${services.publisherKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
}

async function ready(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe('the services on a Redis Cluster', () => {
  test('channels on every master publish 200 and reach subscribers on both client-servers', async () => {
    for (const url of [services.sourceUrl, ...services.clientUrls]) expect((await ready(url)).status).toBe(200);
    const channels = await Promise.all((await masterPorts(cluster)).map((port) => channelOn(cluster, port, 'svc')));
    const sockets = await Promise.all(services.clientUrls.map((url) => TestSocket.open(`${url.replace('http', 'ws')}/v1/ws`, { token })));
    try {
      for (const socket of sockets) for (const channel of channels) expect(await socket.subscribe(channel)).toMatchObject({ type: 'subscribed' });
      for (const channel of channels) expect((await publish(channel, { on: channel })).status).toBe(200);
      for (const socket of sockets) for (const channel of channels) expect(await socket.waitForEvents(channel, 1)).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  test('a batch over three masters answers 200 with every result', async () => {
    const channels = await Promise.all((await masterPorts(cluster)).map((port) => channelOn(cluster, port, 'batch')));
    const res = await fetch(`${services.sourceUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${services.publisherKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: channels.map((channel, i) => ({ channel, data: i })) }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ channel: string; id: string }> };
    expect(body.results.map((r) => r.channel)).toEqual(channels);
  });

  test('after a CLUSTER FAILOVER publishes to the promoted master answer 200 again, and readiness says ready only when they do', async () => {
    const [master] = await masterPorts(cluster);
    const replica = (await cluster.nodes()).find((n) => n.role === 'replica' && n.masterPort === master)!;
    const channel = await channelOn(cluster, master!, 'after');
    await cluster.failover(replica.port);
    await eventually(async () => (await publish(channel, 'after')).status === 200, 'a publish after the failover is stored', 10_000);
    await eventually(async () => (await ready(services.sourceUrl)).status === 200, 'the source-server is ready', 10_000);
    for (let i = 0; i < 5; i++) expect((await publish(channel, i)).status).toBe(200);
  });

  test('while a master is down, readiness is 503 naming that shard, then 200 once its replica took over', async () => {
    const [victim] = await masterPorts(cluster);
    await cluster.kill(victim!);
    for (const url of [services.sourceUrl, ...services.clientUrls]) {
      await eventually(async () => {
        const state = await ready(url);
        return state.status === 503 && state.body.includes(`:${victim}`);
      }, `${url} names the dead shard`, 10_000);
    }
    for (const url of [services.sourceUrl, ...services.clientUrls]) await eventually(async () => (await ready(url)).status === 200, `${url} is ready again`, 20_000);
    await cluster.restart(victim!);
  });
});
