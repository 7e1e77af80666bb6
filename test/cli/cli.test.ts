import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildCli } from '../../cli/build.js';
import { freePort } from '../../tools/ports.js';
import { runCli, startCli } from './run-cli.js';
import { signSubscriberToken, startLocalStack, verifySubscriberToken, type Stack } from './stack.js';

// Real processes (node dist/...): run `npm run build` first; `npm test` does. The CLI is rebuilt here.
let stack: Stack;
let env: Record<string, string>;
beforeAll(async () => {
  await buildCli();
  stack = await startLocalStack({ persistence: 'aof' });
  env = {
    EVENTRELAY_SOURCE_URL: stack.sourceUrl,
    EVENTRELAY_CLIENT_URL: stack.clientUrls[0]!,
    EVENTRELAY_PUBLISHER_KEY: stack.publisherKey,
    SUBSCRIBER_JWT_SECRET: stack.jwtSecret,
  };
});
afterAll(async () => {
  await stack?.stop();
});

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { channel: string; id: string; data: unknown });

function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => (predicate() ? resolve() : Date.now() > deadline ? reject(new Error(`timed out waiting for ${what}`)) : setTimeout(check, 20));
    check();
  });
}

describe('eventrelay publish', () => {
  test('publishes JSON from the argument, a file and stdin, printing each channel and id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventrelay-cli-'));
    writeFileSync(join(dir, 'event.json'), '{"from":"file"}\n');
    const fromArg = await runCli(['publish', 'cli-pub', '{"hello":"world"}'], { env });
    const fromFile = await runCli(['publish', 'cli-pub', `@${join(dir, 'event.json')}`], { env });
    const fromStdin = await runCli(['publish', 'cli-pub', '-'], { env, input: '[1,2,3]' });
    for (const run of [fromArg, fromFile, fromStdin]) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ channel: 'cli-pub', id: expect.stringMatching(/^\d+-\d+$/) });
    }
    const tail = await runCli(['tail', 'cli-pub', '--since', '0-0', '--limit', '3'], { env });
    expect(tail.code, tail.stderr).toBe(0);
    expect(lines(tail.stdout).map((e) => e.data)).toEqual([{ hello: 'world' }, { from: 'file' }, [1, 2, 3]]);
  });

  test('the same idempotency key twice stores one event', async () => {
    const first = await runCli(['publish', 'cli-idem', '{"n":1}', '--idempotency-key', 'k-1'], { env });
    const again = await runCli(['publish', 'cli-idem', '{"n":1}', '--idempotency-key', 'k-1'], { env });
    expect(JSON.parse(again.stdout).id).toBe(JSON.parse(first.stdout).id);
  });

  test('data that is not JSON is a usage error (exit 2) and nothing is sent', async () => {
    const run = await runCli(['publish', 'cli-pub', '{"hello":'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not valid JSON/);
  });

  test('without a publisher key the refusal is an auth error (exit 3) that names the variable to set', async () => {
    const { EVENTRELAY_PUBLISHER_KEY: _, ...noKey } = env;
    const run = await runCli(['publish', 'cli-pub', '{}'], { env: noKey });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/401 unauthorized/);
    expect(run.stderr).toMatch(/EVENTRELAY_PUBLISHER_KEY/);
  });

  test('a server error code and message are printed and exit 1; --source-url overrides the environment', async () => {
    // The client-server has no publish endpoint: a real server's coded 404.
    const run = await runCli(['publish', 'cli-pub', '{}', '--source-url', stack.clientUrls[0]!], { env: { ...env, EVENTRELAY_SOURCE_URL: 'http://127.0.0.1:1' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/publish failed: 404 not_found: \S/);
  });

  test('data over the size limit is refused by the server as an input error (413, exit 2)', async () => {
    const run = await runCli(['publish', 'cli-pub', '-'], { env, input: JSON.stringify({ big: 'x'.repeat(70 * 1024) }) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/413 payload_too_large/);
  });

  test('an unreachable source-server exits 1 and says where it looked', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli(['publish', 'cli-pub', '{}'], { env: { ...env, EVENTRELAY_SOURCE_URL: url } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the source-server at ${url}`);
  });

  test('an unknown command is a usage error (exit 2)', async () => {
    expect((await runCli(['pubish', 'x', '{}'], { env })).code).toBe(2);
  });
});

describe('eventrelay tail', () => {
  test('prints JSON lines and, when its client-server restarts, reconnects and resumes with nothing lost', async () => {
    const channel = `cli-tail-${Date.now()}`;
    const publish = async (n: number) => {
      const run = await runCli(['publish', channel, JSON.stringify({ n })], { env });
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout).id as string;
    };
    const tail = startCli(['tail', channel, '--limit', '6'], { env });
    await until(() => tail.output.stderr.includes('subscribed to'), 'tail to subscribe');
    const ids = [await publish(1), await publish(2)];
    await until(() => lines(tail.output.stdout).length === 2, 'the first two events');
    await stack.killClient(0);
    ids.push(await publish(3), await publish(4));
    await stack.startClient(0);
    ids.push(await publish(5), await publish(6));
    const done = await tail.done;
    expect(done.code, done.stderr).toBe(0);
    expect(lines(done.stdout).map((e) => e.id)).toEqual(ids);
    expect(done.stderr).toMatch(/reconnecting/);
    expect(done.stderr).toMatch(/resumed/);
  });

  test('a token that does not allow the channel exits 3 with forbidden', async () => {
    const token = signSubscriberToken(stack.jwtSecret, { channels: ['elsewhere'] });
    const run = await runCli(['tail', 'cli-secret'], { env: { ...env, EVENTRELAY_TOKEN: token } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/forbidden/);
  });
});

describe('eventrelay token', () => {
  test('mints a subscriber token for the given channel patterns and lifetime', async () => {
    const run = await runCli(['token', '--channels', 'news, orders:*', '--ttl', '2h', '--sub', 'dev'], { env });
    expect(run.code, run.stderr).toBe(0);
    const now = Date.now();
    const claims = await verifySubscriberToken(run.stdout.trim(), stack.jwtSecret, now);
    expect(claims.channels.allows('orders:eu')).toBe(true);
    expect(claims.channels.allows('other')).toBe(false);
    expect(claims.sub).toBe('dev');
    expect(claims.exp! - Math.floor(now / 1000)).toBeGreaterThan(7100);
  });

  test('without SUBSCRIBER_JWT_SECRET, or with a bad --ttl, it is a usage error (exit 2)', async () => {
    const noSecret = await runCli(['token', '--channels', 'news']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/SUBSCRIBER_JWT_SECRET/);
    expect((await runCli(['token', '--channels', 'news', '--ttl', 'soon'], { env })).code).toBe(2);
  });
});
