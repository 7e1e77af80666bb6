import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { stopChild } from '../../support/local-stack.js';
import { freePort } from '../../../tools/ports.js';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../../tools/redis-server.js';
import { TestEventStream } from '../../support/sse-client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const base = { PATH: process.env.PATH ?? '' };

function run(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [`dist/services/${script}/main.js`], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 10_000 });
}

describe('start-up checks', () => {
  test('a malformed variable stops the service with a message naming it, and every bad one is reported at once', () => {
    const result = run('source-server', { REDIS_URL: 'redis://127.0.0.1:1', PUBLISHER_KEYS: 'k'.repeat(20), SOURCE_PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SOURCE_PORT');
    expect(result.stderr).toContain('LOG_LEVEL');
  });

  test('the source-server refuses to start without publisher keys and says which variable to set', () => {
    const result = run('source-server', { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PUBLISHER_KEYS');
  });

  test('the client-server refuses to start without its JWT secret and says which variable to set', () => {
    const result = run('client-server', { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SUBSCRIBER_JWT_SECRET');
  });

  test('a separate service refuses to start without REDIS_URL', () => {
    const result = run('client-server', { AUTH_DISABLED: 'true' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('REDIS_URL');
  });
});

test('AUTH_DISABLED=true turns checks off even when credentials are set, and the service warns loudly', async () => {
  const child = spawn(process.execPath, ['dist/services/client-server/main.js'], {
    cwd: ROOT,
    env: { ...base, REDIS_URL: 'redis://127.0.0.1:1', AUTH_DISABLED: 'true', SUBSCRIBER_JWT_SECRET: 's'.repeat(32), HOST: '127.0.0.1', CLIENT_PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes('AUTH_DISABLED=true') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await stopChild(child, 'SIGKILL');
  expect(output).toMatch(/"level":40.*credential checks are OFF/);
});

describe('embedded mode (npm start)', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => stopChild(c, 'SIGKILL')));
  });

  test('with no credentials and no Redis it relays the README curl example, warning loudly that auth is off', async () => {
    const [sourcePort, clientPort] = [await freePort(), await freePort()];
    let output = '';
    const child = spawn(process.execPath, ['dist/services/embedded/main.js'], {
      cwd: ROOT,
      env: { ...base, SOURCE_PORT: String(sourcePort), CLIENT_PORT: String(clientPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!output.includes('client-server listening')) {
      if (Date.now() > deadline) throw new Error(`embedded mode did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(output).toContain('AUTH IS DISABLED');
    const stream = await TestEventStream.open(`http://127.0.0.1:${clientPort}/v1/sse/demo`);
    await stream.waitFor(1);
    const res = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/demo/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hello":"world"}',
    });
    expect(res.status).toBe(200);
    const [, event] = await stream.waitFor(2);
    expect(JSON.parse(event!.data)).toMatchObject({ type: 'event', channel: 'demo', data: { hello: 'world' } });
    stream.close();
  });

  test('with REDIS_URL it uses Redis like the separate services: the event lands in the channel stream', async () => {
    const redis = await startRedisServer();
    try {
      const [sourcePort, clientPort] = [await freePort(), await freePort()];
      const child = spawn(process.execPath, ['dist/services/embedded/main.js'], {
        cwd: ROOT,
        env: { ...base, REDIS_URL: redis.url, AUTH_DISABLED: 'true', HOST: '127.0.0.1', SOURCE_PORT: String(sourcePort), CLIENT_PORT: String(clientPort), LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ready = await fetch(`http://127.0.0.1:${clientPort}/readyz`).then((r) => r.ok, () => false);
        if (ready) break;
        if (Date.now() > deadline) throw new Error('embedded mode with Redis did not become ready');
        await new Promise((r) => setTimeout(r, 50));
      }
      const res = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/demo/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"via":"redis"}',
      });
      const { id } = (await res.json()) as { id: string };
      const raw = new Redis(redis.url);
      const entries = await raw.xrange('er:{demo}:s', '-', '+');
      raw.disconnect();
      expect(entries.map(([entryId]) => entryId)).toEqual([id]);
    } finally {
      await Promise.all(children.splice(0).map((c) => stopChild(c, 'SIGKILL')));
      await redis.stop();
    }
  });
});
