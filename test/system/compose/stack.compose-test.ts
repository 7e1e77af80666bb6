import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { CLIENT_SERVICES, compose, startComposeStack } from '../../support/compose-stack.js';
import { loadCompose } from '../../support/manifests.js';
import { RetryingPublisher } from '../../support/publisher.js';
import { ResumingSubscriber, deliveryReport } from '../../support/resuming-subscriber.js';
import type { Stack } from '../../support/stack.js';

/**
 * What only the containers can show, beside the shared end-to-end suite
 * (test/system/e2e, which runs against this stack too): health as Docker sees it,
 * the user the images run as, the credentials compose.env hands in, and a
 * `docker compose stop` (SIGTERM through init) draining a replica.
 * Run by `npm run test:compose` (scripts/test-compose.sh), never by `npm test`.
 */
let stack: Stack;
let wsUrls: string[];
let token: string;
let n = 0;
const channel = (name: string) => `compose:${name}:${process.pid}:${++n}:${Date.now()}`;

beforeAll(async () => {
  stack = await startComposeStack({ persistence: 'aof' });
  wsUrls = stack.clientUrls.map((u) => `${u.replace(/^http/, 'ws')}/v1/ws`);
  token = signSubscriberToken(stack.jwtSecret, { channels: ['compose:*'], ttlSeconds: 3600 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function containerOf(service: string): Promise<string> {
  return compose('ps', '-q', service);
}

describe('the compose stack', () => {
  test('every service is healthy as Docker sees it, and each client-server replica is its own container', async () => {
    // The default stack's services: the cluster and sentinel profiles are not started here (scripts/test-compose-ha.sh).
    const services = Object.entries(loadCompose().services).filter(([, s]) => !s.profiles).map(([name]) => name);
    expect(services).toContain('redis');
    for (const service of services) {
      expect(await healthOf(service), service).toBe('healthy');
    }
    const ids = await Promise.all(CLIENT_SERVICES.map(containerOf));
    expect(new Set(ids).size).toBe(2);
  });

  test('the relay services run as user 1000, not root', async () => {
    for (const service of ['source-server', ...CLIENT_SERVICES]) {
      expect(await compose('exec', '-T', service, 'node', '-e', 'process.stdout.write(String(process.getuid()))'), service).toBe('1000');
    }
  });

  test('the source-server takes the publisher key from compose.env and refuses others with unauthorized', async () => {
    const ch = channel('auth');
    const refused = await fetch(`${stack.sourceUrl}/v1/channels/${ch}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-compose-env-key' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const accepted = await fetch(`${stack.sourceUrl}/v1/channels/${ch}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.publisherKey}` },
      body: '{}',
    });
    expect(accepted.status).toBe(200);
  });

  test('docker compose stop drains a client-server: its subscribers get 1001 and resume on the other with nothing lost', async () => {
    const ch = channel('stop');
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, ch);
    // Even starts on client-server, odd on client-server-2.
    const subscribers = Array.from({ length: 6 }, (_, i) => new ResumingSubscriber(wsUrls, token, ch, i));
    await Promise.all(subscribers.map((s) => s.start()));
    let stopped: Promise<string> | undefined;
    await publisher.publishMany(150, 100, (i) => {
      // Not awaited: the drain takes its window while events keep flowing.
      if (i === 40) stopped = compose('stop', CLIENT_SERVICES[0]);
    });
    await stopped;
    const ack = publisher.acknowledged;
    await waitUntil(() => subscribers.every((s) => s.lastId === ack.at(-1)), 30_000);
    for (const s of subscribers) {
      s.stop();
      expect(deliveryReport(ack, s.received)).toMatchObject({ published: 150, lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 });
    }
    const drained = subscribers.filter((_, i) => i % 2 === 0);
    for (const s of drained) expect(s.closeCodes).toContain(1001);
    await compose('start', CLIENT_SERVICES[0]);
    await waitUntil(async () => (await healthOf(CLIENT_SERVICES[0])) === 'healthy', 60_000);
  }, 120_000);
});

async function healthOf(service: string): Promise<string> {
  const id = await containerOf(service);
  return new Promise((resolve) => {
    execFile('docker', ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', id], (err, stdout) =>
      resolve(err ? 'missing' : stdout.trim()),
    );
  });
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
