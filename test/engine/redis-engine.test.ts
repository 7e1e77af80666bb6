import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { Transition } from '../../services/engine/outbox.js';
import { outboxKey } from '../../services/engine/redis/keys.js';
import { createRedisEngine } from '../../services/engine/redis/redis-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { sinkLogger } from '../support/recorder.js';
import { channelsContract } from './channels-contract.js';
import { connectionCounterContract } from './connection-counter-contract.js';
import { presenceContract } from './presence-contract.js';
import type { ReplicaFactory } from './replicas.js';

let server: RedisServerHandle;
let inspector: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  inspector = new Redis(server.url);
});
afterAll(async () => {
  inspector?.disconnect();
  await server?.stop();
});

/** Replicas as separate client-servers would be: one engine each, with its own connections, on one real Redis. */
const redisReplicas: ReplicaFactory = async (count, overrides = {}) => {
  const config = { ...loadConfig({ REDIS_URL: server.url }), ...overrides };
  const replicas = Array.from({ length: count }, () => createRedisEngine({ config: { ...config, redisUrl: server.url }, logger: sinkLogger().logger }, { subscribe: true }));
  await Promise.all(replicas.map((r) => waitReady(r)));
  return {
    replicas,
    async outbox(channel) {
      const entries = (await inspector.xrange(outboxKey(channel), '-', '+')) as [string, string[]][];
      return entries.map(([, fields]) => JSON.parse(fields[1]!) as Transition);
    },
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
    },
  };
};

async function waitReady(engine: { health(): { ok: boolean } }): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!engine.health().ok) {
    if (Date.now() > deadline) throw new Error('engine not ready');
    await new Promise((r) => setTimeout(r, 20));
  }
}

presenceContract('the Redis engine', redisReplicas);
channelsContract('the Redis engine', redisReplicas);
connectionCounterContract('the Redis engine', redisReplicas);
