import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildCli } from '../../cli/build.js';
import { freePort } from '../../tools/ports.js';
import { startPrefixProxy } from './prefix-proxy.js';
import { runCli, startCli } from './run-cli.js';
import { signSubscriberToken, startLocalStack, TestSocket, type Stack } from './stack.js';

// The server-API commands against real servers (node dist/...: run `npm run build` first). The CLI is rebuilt here.
/** Above one page of the server API (1,000), so that `history --since` has to follow `next`. */
const MANY_EVENTS = 1005;

let stack: Stack;
let env: Record<string, string>;
const sockets: TestSocket[] = [];
beforeAll(async () => {
  await buildCli();
  // Subscriber counts reach the server API within STATS_INTERVAL_SECONDS; short, so that the tests do not wait.
  stack = await startLocalStack({ persistence: 'none', env: { STATS_INTERVAL_SECONDS: '0.2', HISTORY_SIZE: '5000' } });
  env = { EVENTRELAY_SOURCE_URL: stack.sourceUrl, EVENTRELAY_CLIENT_URL: stack.clientUrls[0]!, EVENTRELAY_PUBLISHER_KEY: stack.publisherKey, SUBSCRIBER_JWT_SECRET: stack.jwtSecret };
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});
afterAll(async () => {
  await stack?.stop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;
const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

async function publish(channel: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 1000) {
    const events = Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({ channel, data: { n: start + i } }));
    const run = await runCli(['publish-batch', '-'], { env, input: JSON.stringify(events) });
    expect(run.code, run.stderr).toBe(0);
    ids.push(...lines(run.stdout).map((r) => r.id as string));
  }
  return ids;
}

/** A subscriber outside the CLI, on client-server `index`, optionally present as `sub`. */
async function subscriber(index: number, channel: string, sub?: string): Promise<TestSocket> {
  const token = signSubscriberToken(stack.jwtSecret, { channels: ['*'], sub, presence: sub ? ['*'] : undefined, info: sub ? { name: sub.toUpperCase() } : undefined });
  const socket = await TestSocket.open(`${stack.clientUrls[index]!.replace('http', 'ws')}/v1/ws`, { token });
  sockets.push(socket);
  socket.send({ type: 'subscribe', channel, presence: sub !== undefined });
  await socket.next((m) => m.type === 'subscribed');
  return socket;
}

async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await attempt();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('publish-batch sends the events as written: a number past 2^53 in data is stored digit for digit', async () => {
  const channel = unique('big');
  const input = `[{"channel":"${channel}","data":{"n":12345678901234567890,"f":0.10000000000000000555}}]`;
  const run = await runCli(['publish-batch', '-'], { env, input });
  expect(run.code, run.stderr).toBe(0);
  const response = await fetch(`${stack.sourceUrl}/v1/channels/${channel}/events?limit=1`, { headers: { authorization: `Bearer ${stack.publisherKey}` } });
  expect(await response.text()).toContain('"data":{"n":12345678901234567890,"f":0.10000000000000000555}');
});

describe('eventrelay history', () => {
  test('without --since prints the latest events in id order; --limit takes fewer', async () => {
    const channel = unique('cli-hist');
    const ids = await publish(channel, 5);
    const all = await runCli(['history', channel], { env });
    expect(all.code, all.stderr).toBe(0);
    expect(lines(all.stdout)).toEqual(ids.map((id, n) => ({ type: 'event', channel, id, data: { n }, ts: expect.any(Number) })));
    const latest = await runCli(['history', channel, '--limit', '2'], { env });
    expect(lines(latest.stdout).map((e) => e.id)).toEqual(ids.slice(3));
  });

  test('--since pages through with next until the end: every event after it, once, in order', async () => {
    const channel = unique('cli-hist');
    const ids = await publish(channel, MANY_EVENTS);
    const run = await runCli(['history', channel, '--since', ids[1]!], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((e) => e.id)).toEqual(ids.slice(2));
    expect(run.stderr).toBe('');
  });

  test('--since with --limit stops there and says where to go on', async () => {
    const channel = unique('cli-hist');
    const ids = await publish(channel, 6);
    const run = await runCli(['history', channel, '--since', ids[0]!, '--limit', '3'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((e) => e.id)).toEqual(ids.slice(1, 4));
    expect(run.stderr).toContain(`more follow: --since ${ids[3]}`);
  });

  test('refusals name their cause with the exit code: bad input 2, no key 3, no server 1', async () => {
    const badChannel = await runCli(['history', 'no such channel'], { env });
    expect(badChannel.code).toBe(2);
    expect(badChannel.stderr).toMatch(/"no such channel" is not a channel name/);
    const badSince = await runCli(['history', 'cli-hist', '--since', 'yesterday'], { env });
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/history failed: 400 invalid_request: "since" must be an event id/);
    const tooMany = await runCli(['history', 'cli-hist', '--limit', '5000'], { env });
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/--limit is at most 1000/);
    const { EVENTRELAY_PUBLISHER_KEY: _, ...noKey } = env;
    const unauthorized = await runCli(['history', 'cli-hist'], { env: noKey });
    expect(unauthorized.code).toBe(3);
    expect(unauthorized.stderr).toMatch(/history failed: 401 unauthorized: .*EVENTRELAY_PUBLISHER_KEY/);
    const down = await runCli(['history', 'cli-hist', '--source-url', `http://127.0.0.1:${await freePort()}`], { env });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the source-server at .*connection refused.*\(ECONNREFUSED\)/);
  });

  test('a base path in --source-url is kept', async () => {
    const channel = unique('cli-hist');
    const ids = await publish(channel, 2);
    const proxy = await startPrefixProxy({ '/source': stack.sourceUrl });
    try {
      const run = await runCli(['history', channel, '--source-url', `${proxy.url}/source`], { env });
      expect(run.code, run.stderr).toBe(0);
      expect(lines(run.stdout).map((e) => e.id)).toEqual(ids);
    } finally {
      await proxy.close();
    }
  });
});

describe('eventrelay channels', () => {
  test('lists the occupied channels with their subscriber counts across client-servers, filtered by --prefix', async () => {
    const prefix = `${unique('cli-occ')}:`;
    const tail = startCli(['tail', `${prefix}a`], { env });
    try {
      await subscriber(0, `${prefix}a`);
      await subscriber(1, `${prefix}b`);
      const run = await until(
        () => runCli(['channels', '--prefix', prefix], { env }),
        (r) => r.code === 0 && JSON.stringify(lines(r.stdout)) === JSON.stringify([{ channel: `${prefix}a`, subscribers: 2 }, { channel: `${prefix}b`, subscribers: 1 }]),
        'both channels with their counts',
      );
      expect(run.stderr).toBe('');
    } finally {
      tail.kill('SIGINT');
      await tail.done;
    }
  });

  test('no match is not an error: nothing on stdout, a note on stderr; a bad prefix is an input error', async () => {
    const empty = await runCli(['channels', '--prefix', 'nobody-here:'], { env });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(/no channel starting with "nobody-here:" has a subscriber/);
    const bad = await runCli(['channels', '--prefix', 'no spaces'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/channels failed: 400 invalid_request/);
  });
});

describe('eventrelay presence', () => {
  test('lists the users present on every client-server with their info and connections', async () => {
    const channel = unique('cli-room');
    await subscriber(0, channel, 'alice');
    await subscriber(1, channel, 'bob');
    await subscriber(1, channel, 'alice');
    const run = await runCli(['presence', channel], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).sort((a, b) => String(a.user).localeCompare(String(b.user)))).toEqual([
      { user: 'alice', info: { name: 'ALICE' }, connections: 2 },
      { user: 'bob', info: { name: 'BOB' }, connections: 1 },
    ]);
    expect(run.stderr).toContain(`2 users present in ${channel}`);
  });
});

describe('eventrelay disconnect', () => {
  test("closes the user's connections on every client-server with 4003, and a tail with that user's token exits 1 saying so", async () => {
    const user = unique('cli-user');
    const ws = await subscriber(1, unique('cli-cut'), user);
    const token = signSubscriberToken(stack.jwtSecret, { channels: ['*'], sub: user, ttlSeconds: 600 });
    const tail = startCli(['tail', unique('cli-cut')], { env: { ...env, EVENTRELAY_TOKEN: token } });
    await until(async () => tail.output.stderr, (s) => s.includes('subscribed to'), 'tail to subscribe');

    const run = await runCli(['disconnect', user], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ user });
    expect(run.stderr).toMatch(/closed with 4003; their token is not revoked/);
    expect(await ws.waitClosed()).toBe(4003);
    const done = await tail.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(/disconnected/);
  });

  test('without the publisher key it is an auth error (exit 3)', async () => {
    const { EVENTRELAY_PUBLISHER_KEY: _, ...noKey } = env;
    const run = await runCli(['disconnect', 'someone'], { env: noKey });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/disconnect failed: 401 unauthorized/);
  });
});

describe('eventrelay token, v1.1 claims', () => {
  test('--publish and --presence become the claims; --presence without --sub is an input error', async () => {
    const run = await runCli(['token', '--channels', 'room:*', '--sub', 'alice', '--publish', 'room:*', '--presence', 'room:1,room:2'], { env });
    expect(run.code, run.stderr).toBe(0);
    const claims = JSON.parse(Buffer.from(run.stdout.trim().split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', channels: ['room:*'], publish: ['room:*'], presence: ['room:1', 'room:2'] });
    const noSub = await runCli(['token', '--channels', 'room:*', '--presence', 'room:*'], { env });
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toMatch(/--presence needs --sub/);
  });
});
