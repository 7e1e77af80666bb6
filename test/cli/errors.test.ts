import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildCli } from '../../cli/build.js';
import { freePort } from '../../tools/ports.js';
import { startPrefixProxy } from './prefix-proxy.js';
import { runCli } from './run-cli.js';
import { signSubscriberToken, startLocalStack, type Stack } from './stack.js';

// Each failure a user met (issue #13), against real servers (node dist/...: run `npm run build` first).
// runCli kills a run stuck for 20 s: a CLI that retries forever fails these with code null.
let stack: Stack;
let env: Record<string, string>;
let proxy: { url: string; close(): Promise<void> };
let plainHttp: Server;
beforeAll(async () => {
  await buildCli();
  stack = await startLocalStack({ clients: 1 });
  env = {
    EVENTRELAY_SOURCE_URL: stack.sourceUrl,
    EVENTRELAY_CLIENT_URL: stack.clientUrls[0]!,
    EVENTRELAY_PUBLISHER_KEY: stack.publisherKey,
    SUBSCRIBER_JWT_SECRET: stack.jwtSecret,
  };
  proxy = await startPrefixProxy({ '/source': stack.sourceUrl, '/client': stack.clientUrls[0]! });
  plainHttp = createServer((_req, res) => res.end('plain http'));
  await new Promise<void>((resolve) => plainHttp.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await proxy?.close();
  plainHttp?.close();
  await stack?.stop();
});

const closedPort = async () => `http://127.0.0.1:${await freePort()}`;

describe('input errors exit 2 and say what was wrong, without a stack trace', () => {
  test('--source-url that is not a URL', async () => {
    const run = await runCli(['publish', 'news', '{}', '--source-url', 'not a url'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--source-url is not a URL: "not a url"');
    expect(run.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  });

  test('EVENTRELAY_SOURCE_URL or --client-url that is not a URL names where it came from', async () => {
    const fromEnv = await runCli(['publish', 'news', '{}'], { env: { ...env, EVENTRELAY_SOURCE_URL: 'localhost:8080' } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(/EVENTRELAY_SOURCE_URL must be a http or https URL/);
    const tail = await runCli(['tail', 'news', '--client-url', '::nope'], { env });
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('--client-url is not a URL');
  });

  test('an invalid channel name, for publish and for tail, before anything is sent', async () => {
    const unreachable = await closedPort();
    const publish = await runCli(['publish', 'bad channel!', '{}', '--source-url', unreachable], { env });
    expect(publish.code).toBe(2);
    expect(publish.stderr).toMatch(/"bad channel!" is not a channel name/);
    const tail = await runCli(['tail', 'bad channel!', '--client-url', unreachable], { env });
    expect(tail.code).toBe(2);
    expect(tail.stderr).toMatch(/"bad channel!" is not a channel name/);
  });
});

describe('unreachable servers exit 1 and name the cause', () => {
  test('tail against a closed port stops after a few attempts with connection refused (ECONNREFUSED)', async () => {
    const run = await runCli(['tail', 'news', '--client-url', await closedPort()], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:\d+\/v1\/ws after 4 attempts: connection refused.*\(ECONNREFUSED\)/);
  });

  test('tail against a server that answers the upgrade with 404 stops at once with the status and the server code', async () => {
    // The source-server has no /v1/ws: a real server's coded 404 at the upgrade.
    const run = await runCli(['tail', 'news', '--client-url', stack.sourceUrl], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/HTTP 404 not_found: \S/);
    expect(run.stderr).not.toMatch(/retrying|reconnecting/);
  });

  test('publish to a closed port says connection refused (ECONNREFUSED)', async () => {
    const run = await runCli(['publish', 'news', '{}', '--source-url', await closedPort()], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach the source-server at http:\/\/127\.0\.0\.1:\d+: connection refused.*\(ECONNREFUSED\)/);
  });

  test('https to a plain-http port is named a TLS error, for publish and tail', async () => {
    const https = `https://127.0.0.1:${(plainHttp.address() as AddressInfo).port}`;
    const publish = await runCli(['publish', 'news', '{}', '--source-url', https], { env });
    expect(publish.code).toBe(1);
    expect(publish.stderr).toMatch(/TLS error: wrong version number/);
    const tail = await runCli(['tail', 'news', '--client-url', https], { env });
    expect(tail.code).toBe(1);
    expect(tail.stderr).toMatch(/TLS error/);
  });
});

describe('refused credentials exit 3 with the server reason', () => {
  test('an expired EVENTRELAY_TOKEN: token expired, not SDK advice', async () => {
    const expired = signSubscriberToken(stack.jwtSecret, { channels: ['news'], ttlSeconds: 60, nowMs: Date.now() - 120_000 });
    const run = await runCli(['tail', 'news'], { env: { ...env, EVENTRELAY_TOKEN: expired } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/token expired/);
    expect(run.stderr).toContain('EVENTRELAY_TOKEN');
    expect(run.stderr).not.toMatch(/getToken/);
  });

  test('a token that expires while tailing: the server closes with token expired, and tail says so', async () => {
    const shortLived = signSubscriberToken(stack.jwtSecret, { channels: ['news'], ttlSeconds: 2 });
    const run = await runCli(['tail', 'news'], { env: { ...env, EVENTRELAY_TOKEN: shortLived } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/subscribed to news/);
    expect(run.stderr).toMatch(/unauthorized: token expired/);
  });

  test('a SUBSCRIBER_JWT_SECRET that is not the server one: the minted token is refused once, not retried forever', async () => {
    const run = await runCli(['tail', 'news'], { env: { ...env, SUBSCRIBER_JWT_SECRET: 'not-the-servers-secret-0123456789abcdef' } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/bad token signature/);
    expect(run.stderr).toContain('SUBSCRIBER_JWT_SECRET');
  });
});

describe('a path prefix in the server address is kept', () => {
  test('publish and tail through a proxy at /source and /client', async () => {
    const channel = `cli-prefix-${Date.now()}`;
    const prefixed = { ...env, EVENTRELAY_SOURCE_URL: `${proxy.url}/source`, EVENTRELAY_CLIENT_URL: `${proxy.url}/client/` };
    const published = await runCli(['publish', channel, '{"via":"prefix"}'], { env: prefixed });
    expect(published.code, published.stderr).toBe(0);
    const { id } = JSON.parse(published.stdout) as { id: string };
    const tail = await runCli(['tail', channel, '--since', '0-0', '--limit', '1'], { env: prefixed });
    expect(tail.code, tail.stderr).toBe(0);
    expect(JSON.parse(tail.stdout)).toMatchObject({ channel, id, data: { via: 'prefix' } });
    expect(tail.stderr).toContain(`on ws://127.0.0.1:${new URL(proxy.url).port}/client/v1/ws`);
  });
});

describe('an idempotent replay is printed as one', () => {
  test('the single endpoint: the retry prints "replayed":true and says nothing new was stored', async () => {
    const key = `k-${Date.now()}`;
    const first = await runCli(['publish', 'cli-replay', '{"n":1}', '--idempotency-key', key], { env });
    const again = await runCli(['publish', 'cli-replay', '{"n":1}', '--idempotency-key', key], { env });
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(JSON.parse(first.stdout)).toEqual({ channel: 'cli-replay', id: expect.any(String) });
    expect(JSON.parse(again.stdout)).toEqual({ ...JSON.parse(first.stdout), replayed: true });
    expect(first.stderr).not.toMatch(/replayed/);
    expect(again.stderr).toMatch(/replayed: idempotency key .* nothing new was stored/);
  });

  test('a batch: results that replayed a key carry "replayed":true, and stderr counts them', async () => {
    const key = `b-${Date.now()}`;
    const events = [
      { channel: 'cli-batch', data: 1, idempotencyKey: key },
      { channel: 'cli-batch', data: 2 },
      { channel: 'cli-batch', data: 1, idempotencyKey: key },
    ];
    const run = await runCli(['publish-batch', '-'], { env, input: JSON.stringify({ events }) });
    expect(run.code, run.stderr).toBe(0);
    const results = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; replayed?: boolean });
    expect(results.map((r) => r.replayed)).toEqual([undefined, undefined, true]);
    expect(results[2]!.id).toBe(results[0]!.id);
    expect(run.stderr).toMatch(/replayed: 1 of 3 events/);
  });
});

describe('--version', () => {
  test('prints the version of the CLI package', async () => {
    const { version } = (await import('../../cli/package.json', { with: { type: 'json' } })).default;
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  });
});
