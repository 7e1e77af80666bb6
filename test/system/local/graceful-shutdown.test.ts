import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { E2E_JWT_SECRET, E2E_PUBLISHER_KEY, stopChild } from '../../support/local-stack.js';
import { freePort } from '../../../tools/ports.js';
import { startRedisServer, type RedisServerHandle } from '../../../tools/redis-server.js';
import { TestSocket } from '../../support/ws-client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let redis: RedisServerHandle;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 'SIGKILL')));
  await redis?.stop();
});

async function start(script: 'source-server' | 'client-server', port: number, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [`dist/services/${script}/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
      PUBLISHER_KEYS: E2E_PUBLISHER_KEY, SUBSCRIBER_JWT_SECRET: E2E_JWT_SECRET,
      SOURCE_PORT: String(port), CLIENT_PORT: String(port), ...extra,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('SIGTERM on a source-server under load: every event answered 200 is in history', async () => {
  const port = await freePort();
  const child = await start('source-server', port);
  const channel = `shutdown:${Date.now()}`;
  const acknowledged: string[] = [];
  let refused = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const workers = Array.from({ length: 8 }, async () => {
    for (let i = 0; i < 500; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/channels/${channel}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_PUBLISHER_KEY}` },
          body: JSON.stringify({ i }),
        });
        if (res.status === 200) acknowledged.push(((await res.json()) as { id: string }).id);
        else {
          await res.body?.cancel();
          refused++;
        }
      } catch {
        return; // the server has stopped listening
      }
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  await Promise.all(workers);
  expect(await exited).toBe(0);

  const raw = new Redis(redis.url);
  const stored = new Set((await raw.xrange(`er:{${channel}}:s`, '-', '+')).map(([id]) => id));
  raw.disconnect();
  expect(acknowledged.length).toBeGreaterThan(0);
  expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  expect(refused + acknowledged.length).toBeGreaterThan(0);
}, 30_000);

test('SIGTERM on a client-server closes every WebSocket with 1001, spread over the drain window, then exits 0', async () => {
  const port = await freePort();
  const child = await start('client-server', port, { DRAIN_WINDOW_SECONDS: '1' });
  const token = signSubscriberToken(E2E_JWT_SECRET, { channels: ['*'] });
  const sockets = await Promise.all(Array.from({ length: 20 }, () => TestSocket.open(`ws://127.0.0.1:${port}/v1/ws`, { token })));
  await Promise.all(sockets.map((s) => s.subscribe('drain')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = Date.now();
  const closedAt: number[] = [];
  sockets.forEach((s) => s.ws.on('close', () => closedAt.push(Date.now() - started)));
  child.kill('SIGTERM');
  const codes = await Promise.all(sockets.map((s) => s.waitClosed(5000)));
  expect(codes.every((c) => c === 1001)).toBe(true);
  closedAt.sort((a, b) => a - b);
  expect(closedAt.at(-1)! - closedAt[0]!).toBeGreaterThan(500);
  expect(await exited).toBe(0);
}, 30_000);

test('SIGTERM on a client-server frees its port at once: a replacement binds and serves while the old WebSockets still get events and drain with 1001', async () => {
  const port = await freePort();
  const sourcePort = await freePort();
  await start('source-server', sourcePort);
  // A window long enough that the replacement is up well before the last old socket is closed.
  const old = await start('client-server', port, { DRAIN_WINDOW_SECONDS: '15' });
  const token = signSubscriberToken(E2E_JWT_SECRET, { channels: ['*'] });
  const channel = `rebind:${Date.now()}`;
  const sockets = await Promise.all(Array.from({ length: 10 }, () => TestSocket.open(`ws://127.0.0.1:${port}/v1/ws`, { token })));
  await Promise.all(sockets.map((s) => s.subscribe(channel)));
  const oldExited = new Promise<number | null>((resolve) => old.once('exit', (code) => resolve(code)));

  old.kill('SIGTERM');
  // Before the fix the replacement died with EADDRINUSE until the old process exited.
  await start('client-server', port);
  const stillOpen = sockets.filter((s) => s.closeCode === undefined);
  expect(stillOpen.length, 'old connections still draining when the replacement served').toBeGreaterThan(0);

  // New connections reach the replacement (the old process would refuse them with unavailable).
  const fresh = await TestSocket.open(`ws://127.0.0.1:${port}/v1/ws`, { token });
  expect((await fresh.subscribe(channel)).type).toBe('subscribed');

  // The old connections still work while they drain: an event published now reaches them too.
  const published = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_PUBLISHER_KEY}` },
    body: JSON.stringify({ during: 'drain' }),
  });
  expect(published.status).toBe(200);
  await fresh.waitForEvents(channel, 1);
  await Promise.any(stillOpen.map((s) => s.waitForEvents(channel, 1)));

  const codes = await Promise.all(sockets.map((s) => s.waitClosed(30_000)));
  expect(codes.every((c) => c === 1001)).toBe(true);
  expect(await oldExited).toBe(0);
  expect(fresh.closeCode, 'the replacement keeps its connections').toBeUndefined();
  fresh.close();
}, 60_000);
