import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { engineProblems, openEngine } from '../../services/engine/create-engine.js';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { eventually, sinkLogger } from '../support/recorder.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certs.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { readFile: (path) => readFileSync(path, 'utf8') });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the Redis deployment variables', () => {
  test('name exactly one deployment: two of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES is a problem naming both', () => {
    const found = problems({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000,c:7001' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
  });

  test('Sentinel needs its master name, and the master name needs sentinels', () => {
    expect(problems({ REDIS_SENTINELS: 's1:26379' })).toEqual([expect.stringContaining('REDIS_SENTINEL_MASTER must be set')]);
    expect(problems({ REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([expect.stringContaining('REDIS_SENTINELS is not')]);
    expect(problems({ REDIS_SENTINEL_PASSWORD: 'x' })).toEqual([expect.stringContaining('REDIS_SENTINEL_PASSWORD is set but REDIS_SENTINELS is not')]);
  });

  test('node lists are host:port items; a bad one is named', () => {
    expect(problems({ REDIS_CLUSTER_NODES: 'redis-0:7000,redis-1' })).toEqual([expect.stringContaining('"redis-1" is not host:port')]);
    expect(problems({ REDIS_SENTINELS: '[::1]:26379,s2:26379', REDIS_SENTINEL_MASTER: 'm' })).toEqual([]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: ' a:7000 , b:7001 ' }).redisClusterNodes).toEqual(['a:7000', 'b:7001']);
  });

  test('a password in the URL and in REDIS_PASSWORD, or TLS asked for on a redis:// URL, is refused', () => {
    expect(problems({ REDIS_URL: 'redis://:pw@a:6379', REDIS_PASSWORD: 'pw2' })).toEqual([expect.stringContaining('set it in one place')]);
    expect(problems({ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' })).toEqual([expect.stringContaining('use rediss://')]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([expect.stringContaining('REDIS_TLS_CA_FILE: cannot read')]);
  });

  test('each mode satisfies what the services need; none of them fails with a sentence naming all three', () => {
    for (const env of [{ REDIS_URL: 'redis://a:6379' }, { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }, { REDIS_CLUSTER_NODES: 'n:7000' }]) {
      expect(engineProblems(loadConfig(env), 'source-server')).toEqual([]);
    }
    expect(engineProblems(loadConfig({}), 'client-server')[0]).toMatch(/REDIS_URL .*REDIS_SENTINELS .*REDIS_CLUSTER_NODES/);
  });
});

describe('credentials and TLS from the variables', () => {
  const PASSWORD = 'pw-Aq1sW2dE3rF4';
  let certs: TestCertificates;
  let redis: RedisServerHandle;
  beforeAll(async () => {
    certs = makeTestCertificates();
    redis = await startRedisServer({ password: PASSWORD, tls: certs });
  });
  afterAll(async () => {
    await redis?.stop();
    certs?.remove();
  });

  test('REDIS_PASSWORD and REDIS_TLS_CA_FILE reach a rediss:// Redis with a private CA, without NODE_EXTRA_CA_CERTS', async () => {
    const url = redis.tlsUrl!.replace(/\/\/[^@]*@/, '//');
    const config = loadConfig({ REDIS_URL: url, REDIS_PASSWORD: PASSWORD, REDIS_TLS_CA_FILE: certs.caFile }, { readFile: (path) => readFileSync(path, 'utf8') });
    expect(config.redisTlsCa).toContain('BEGIN CERTIFICATE');
    const engine = await openEngine({ config, logger: sinkLogger().logger }, { subscribe: false });
    try {
      await eventually(() => engine.health().ok, 'the engine is ready over TLS');
      const [result] = await engine.bus.publish([{ channel: 'tls', data: '1', ts: Date.now() }]);
      expect(result!.id).toMatch(/^\d+-\d+$/);
    } finally {
      await engine.close();
    }
  });
});
