import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { freePort } from '../../tools/ports.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certs.js';

/**
 * Redis with a password and with TLS (rediss://), and no secret in any log
 * line: both services run as real processes at LOG_LEVEL=trace, are used
 * with every kind of credential, and their whole output is searched.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'redis-pass-Zq8vX2mK7wLp';
const PUBLISHER_KEY = 'publisher-key-Hn4tR9cW1yBs';
const JWT_SECRET = 'jwt-secret-Gm5eT8uJ3oQa-jwt-secret-0123';

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

function lines(): { text: string[]; push(chunk: Buffer): void } {
  const text: string[] = [];
  let rest = '';
  return {
    text,
    push(chunk) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      text.push(...parts);
    },
  };
}

/** One service as `main.ts` runs it (through tsx, so the test needs no build), all output captured. */
async function launch(service: 'source-server' | 'client-server', env: Record<string, string>, port: number) {
  const output = lines();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `services/${service}/main.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => output.push(c));
  child.stderr!.on('data', (c: Buffer) => output.push(c));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service} exited ${child.exitCode}: ${output.text.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`${service} not ready: ${output.text.slice(-5).join('\n')}`);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: output.text,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

describe('Redis password and TLS', () => {
  test('both services work over rediss:// with a password, and no log line at trace holds a secret', async () => {
    const sourcePort = await freePort();
    const clientPort = await freePort();
    const env = {
      REDIS_URL: redis.tlsUrl!,
      // A private CA is trusted the standard Node way; certificates are verified.
      NODE_EXTRA_CA_CERTS: certs.caFile,
      LOG_LEVEL: 'trace',
      HOST: '127.0.0.1',
      PUBLISHER_KEYS: PUBLISHER_KEY,
      SUBSCRIBER_JWT_SECRET: JWT_SECRET,
      DRAIN_WINDOW_SECONDS: '0',
    };
    const source = await launch('source-server', { ...env, SOURCE_PORT: String(sourcePort) }, sourcePort);
    const client = await launch('client-server', { ...env, CLIENT_PORT: String(clientPort) }, clientPort);
    const token = signSubscriberToken(JWT_SECRET, { channels: ['news'], ttlSeconds: 600 });
    try {
      const socket = await TestSocket.open(`ws://127.0.0.1:${clientPort}/v1/ws`, { token });
      expect(await socket.subscribe('news')).toMatchObject({ type: 'subscribed' });
      const stream = await TestEventStream.open(`http://127.0.0.1:${clientPort}/v1/sse/news`, { authorization: `Bearer ${token}` });
      expect(stream.status).toBe(200);
      const published = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/news/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PUBLISHER_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'k-1' },
        body: '{"hello":"tls"}',
      });
      expect(published.status).toBe(200);
      const { id } = (await published.json()) as { id: string };
      expect((await socket.waitForEvents('news', 1))[0]!.id).toBe(id);
      // Refused credentials are logged too; they must not leak either.
      expect((await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/news/events`, { method: 'POST', headers: { authorization: `Bearer ${PUBLISHER_KEY}x`, 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      await TestSocket.open(`ws://127.0.0.1:${clientPort}/v1/ws?token=${token}x`).catch(() => undefined);
      socket.close();
      stream.close();
    } finally {
      await source.stop();
      await client.stop();
    }
    const all = [...source.output, ...client.output];
    expect(all.some((l) => /"level":(10|20)/.test(l)), 'debug and trace lines were written').toBe(true);
    expect(all.some((l) => l.includes('redis connection ready'))).toBe(true);
    const signature = token.split('.')[2]!;
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), PUBLISHER_KEY, JWT_SECRET, token, signature]) {
      const leaks = all.filter((l) => l.includes(secret));
      expect(leaks, `a log line holds ${secret.slice(0, 12)}...`).toEqual([]);
    }
  }, 60_000);

  test('a redis:// URL with the password works, and a wrong password leaves the service unready without logging it', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (l: string) => void logged.push(l) });
    for (const [url, ready] of [[redis.url, true], [redis.url.replace(PASSWORD, 'wrong-password-123'), false]] as const) {
      const config = loadConfig({ REDIS_URL: url, AUTH_DISABLED: 'true' });
      const created = createEngine({ config, logger }, { subscribe: false });
      const app = buildSourceApp({ config, logger, engine: created });
      try {
        const deadline = Date.now() + 5000;
        let status = 0;
        while (Date.now() < deadline) {
          status = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
          if (status === 200 || (!ready && logged.some((l) => /WRONGPASS|NOAUTH|invalid password/i.test(l)))) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(status).toBe(ready ? 200 : 503);
      } finally {
        await app.close();
        await created.close();
      }
    }
    expect(logged.some((l) => /WRONGPASS|invalid password/i.test(l)), 'the refusal was logged').toBe(true);
    expect(logged.filter((l) => l.includes(PASSWORD) || l.includes('wrong-password-123'))).toEqual([]);
  });

  test('rediss:// verifies the server certificate: without trusting its CA the service never becomes ready', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void logged.push(l) });
    const config = loadConfig({ REDIS_URL: redis.tlsUrl!, AUTH_DISABLED: 'true' });
    const created = createEngine({ config, logger }, { subscribe: false });
    const app = buildSourceApp({ config, logger, engine: created });
    try {
      const deadline = Date.now() + 10_000;
      while (!logged.some((l) => /certificate/i.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(logged.some((l) => /certificate/i.test(l)), 'a certificate error was logged').toBe(true);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    } finally {
      await app.close();
      await created.close();
    }
  });
});
