import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { freePort } from '../../tools/ports.js';
import { startRedisCluster, type RedisClusterHandle } from '../../tools/redis-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { sinkLogger } from '../support/recorder.js';

/**
 * Redis must be the deployment the variables say, or the process stops at
 * start with the fix in the message. Before this check, REDIS_URL pointed at
 * a Cluster node started "ready" and then answered 503 (MOVED) for every
 * channel of the other nodes' slots.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let cluster: RedisClusterHandle;
let standalone: RedisServerHandle;

beforeAll(async () => {
  [cluster, standalone] = await Promise.all([startRedisCluster({ replicasPerMaster: 0 }), startRedisServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([cluster?.stop(), standalone?.stop()]);
});

describe('the start-up topology check', () => {
  test('REDIS_URL pointed at a Redis Cluster node refuses to start, telling the user to set REDIS_CLUSTER_NODES', async () => {
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${cluster.seeds[0]!.port}` });
    const error = await openEngine({ config, logger: sinkLogger().logger }, { subscribe: true }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/REDIS_URL points at a Redis Cluster node .*Set REDIS_CLUSTER_NODES=/);
  });

  test('the source-server process exits 1 at start with that message', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/source-server/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', REDIS_URL: `redis://127.0.0.1:${cluster.seeds[1]!.port}`, AUTH_DISABLED: 'true', SOURCE_PORT: String(port), HOST: '127.0.0.1', LOG_PRETTY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(output).toContain('Set REDIS_CLUSTER_NODES=');
  }, 30_000);

  test('REDIS_CLUSTER_NODES pointed at a standalone Redis refuses to start, telling the user to use REDIS_URL', async () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: `127.0.0.1:${standalone.port}` });
    const error = await openEngine({ config, logger: sinkLogger().logger }, { subscribe: false }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/REDIS_CLUSTER_NODES points at a Redis without cluster mode .*Use REDIS_URL/);
  });

  test('a Redis that is down at start does not stop the start: the engine opens unready', async () => {
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const engine = await openEngine({ config, logger: sinkLogger().logger }, { subscribe: false });
    try {
      expect(engine.health().ok).toBe(false);
    } finally {
      await engine.close();
    }
  });

  test('the right variables on the same servers start ready', async () => {
    for (const env of [{ REDIS_URL: standalone.url }, { REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',') }]) {
      const engine = await openEngine({ config: loadConfig(env), logger: sinkLogger().logger }, { subscribe: true });
      await engine.close();
    }
  });
});
