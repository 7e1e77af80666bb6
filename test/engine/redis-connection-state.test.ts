import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRedisEngine } from '../../services/engine/redis/redis-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { eventually, freshChannel, sinkLogger } from '../support/recorder.js';

/**
 * A Redis that refuses our password (issue 13): readiness names the cause,
 * the log says it once per change of cause instead of on every reconnect
 * attempt, publishes that fail meanwhile do not each log a warning, and the
 * connection's return is one info line naming what it recovered from.
 */
const PASSWORD = 'right-password-Hq8mZ2';
let server: RedisServerHandle;
let admin: Redis;

beforeAll(async () => {
  server = await startRedisServer({ password: PASSWORD });
  admin = new Redis(server.url);
  admin.on('error', () => {});
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

test('a wrong Redis password: /readyz names WRONGPASS, one warning per connection, then one ready line once the password is right', async () => {
  const wrong = 'wrong-password-Zt4kW9';
  const url = new URL(server.url);
  url.password = '';
  const config = loadConfig({ REDIS_URL: url.toString(), REDIS_PASSWORD: wrong, CANARY_INTERVAL_SECONDS: '0' });
  const { logger, lines } = sinkLogger();
  const engine = createRedisEngine({ config, logger }, { subscribe: true });
  try {
    await eventually(() => /WRONGPASS/.test(engine.health().reason ?? ''), 'readiness names WRONGPASS', 10_000);
    expect(engine.health().ok).toBe(false);
    // Let ioredis retry several times: the repeats must not become warnings.
    await eventually(() => lines.filter((l) => l.msg === 'redis connection error (again)').length >= 4, 'several reconnect attempts', 15_000);
    const failed = await engine.bus.publish([{ channel: freshChannel('wp'), data: '1', ts: Date.now() }]).then(
      () => 'stored',
      (err: { code?: string }) => err.code,
    );
    expect(failed).toBe('unavailable');
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => `${(l as { role?: string }).role} ${l.msg}`).sort()).toEqual(['commands redis connection error', 'pubsub redis connection error']);

    // The operator fixes the password (here: Redis is told to accept ours).
    await admin.config('SET', 'requirepass', wrong);
    await eventually(() => engine.health().ok, 'ready once the password is accepted', 15_000);
    const ready = lines.filter((l) => l.msg === 'redis connection ready') as unknown as Array<{ role: string; after?: string }>;
    expect(ready.filter((l) => /WRONGPASS/.test(l.after ?? '')).map((l) => l.role).sort()).toEqual(['commands', 'pubsub']);
    expect(engine.health().reason).toBeUndefined();
  } finally {
    await engine.close();
    const restore = new Redis(server.url, { password: wrong });
    restore.on('error', () => {});
    await restore.config('SET', 'requirepass', PASSWORD).catch(() => undefined);
    restore.disconnect();
  }
}, 60_000);
