import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { APP, eventually, pusherClient, pusherServer, startPusherStack, subscribed, waitFor, type ClientOptions, type PusherClient } from '../../support/pusher-clients.js';

let stack: LocalStack;
const clients: PusherClient[] = [];
const client = (i: number, options: ClientOptions = {}) => {
  const c = pusherClient(stack.clientUrls[i % 2]!, options);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  stack = await startPusherStack();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stack?.stop();
});

/** A request signed by hand, as pusher-http-node signs it, with knobs to break it. */
async function signed(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; params?: Record<string, string>; timestamp?: number; md5?: string; secret?: string; key?: string; appId?: string } = {},
): Promise<{ status: number; text: string }> {
  const appId = options.appId ?? APP.id;
  const fullPath = `/apps/${appId}${path}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const params: Record<string, string> = {
    auth_key: options.key ?? APP.key,
    auth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    ...options.params,
  };
  if (body !== undefined) params.body_md5 = options.md5 ?? createHash('md5').update(body).digest('hex');
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  const signature = createHmac('sha256', options.secret ?? APP.secret).update(`${method}\n${fullPath}\n${query}`).digest('hex');
  const response = await fetch(`${stack.sourceUrl}${fullPath}?${query}&auth_signature=${signature}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, text: await response.text() };
}

const trigger = { name: 'e', data: '{}', channels: ['news'] };

describe('the Pusher HTTP API through the pusher SDK', () => {
  test('trigger with info answers the counts of each channel; attributes that do not apply are left out', async () => {
    const a = client(0, { user: { user_id: 'ann' } });
    const b = client(1, { user: { user_id: 'bob' } });
    await Promise.all([subscribed(a, 'presence-counted'), subscribed(b, 'presence-counted'), subscribed(a, 'counted')]);
    const sdk = pusherServer(stack);
    // Counts reach the API within STATS_INTERVAL_SECONDS.
    const answer = await eventually('the counts', async () => {
      const res = await sdk.trigger(['presence-counted', 'counted'], 'e', {}, { info: 'user_count,subscription_count' });
      const body = (await res.json()) as { channels: Record<string, Record<string, number>> };
      return body.channels['presence-counted']?.subscription_count === 2 && body.channels.counted?.subscription_count === 1 ? body : undefined;
    });
    expect(answer).toEqual({ channels: { 'presence-counted': { user_count: 2, subscription_count: 2 }, counted: { subscription_count: 1 } } });
    // Without info the answer is the empty object.
    expect(await (await sdk.trigger('counted', 'e', {})).json()).toEqual({});
  });

  test('triggerBatch delivers every event, in order, and answers per-item info', async () => {
    const a = client(1);
    await subscribed(a, 'batch-a');
    const got: unknown[] = [];
    const all = waitFor(10_000, 'the batch', (done) =>
      a.channel('batch-a')!.bind('b', (d: unknown) => {
        got.push(d);
        if (got.length === 3) done(true);
      }),
    );
    const res = await pusherServer(stack).triggerBatch([
      { channel: 'batch-a', name: 'b', data: { i: 1 } },
      { channel: 'batch-a', name: 'b', data: { i: 2 }, info: 'subscription_count' },
      { channel: 'batch-a', name: 'b', data: { i: 3 } },
    ]);
    await all;
    expect(got).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    const body = (await res.json()) as { batch: Record<string, number>[] };
    expect(body.batch).toHaveLength(3);
    expect(body.batch[0]).toEqual({});
  });

  test('GET /channels lists occupied channels, filtered by prefix, with user_count for presence', async () => {
    const a = client(0, { user: { user_id: 'lister' } });
    await Promise.all([subscribed(a, 'presence-listed'), subscribed(a, 'listed-public')]);
    const sdk = pusherServer(stack);
    const all = await eventually('the listing', async () => {
      const body = (await (await sdk.get({ path: '/channels' })).json()) as { channels: Record<string, unknown> };
      return 'presence-listed' in body.channels && 'listed-public' in body.channels ? body : undefined;
    });
    expect(all.channels['listed-public']).toEqual({});
    const presence = (await (await sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json()) as { channels: Record<string, unknown> };
    expect(presence.channels['presence-listed']).toEqual({ user_count: 1 });
    expect(Object.keys(presence.channels).every((n) => n.startsWith('presence-'))).toBe(true);
    // user_count without the presence- prefix is refused, as Pusher documents.
    await expect(sdk.get({ path: '/channels', params: { info: 'user_count' } })).rejects.toMatchObject({ status: 400 });
  });

  test('GET /channels/{name} answers occupied, counts and the cache; GET …/users lists presence users', async () => {
    const a = client(1, { user: { user_id: 7, user_info: { name: 'Seven' } } });
    await subscribed(a, 'presence-info');
    const sdk = pusherServer(stack);
    const info = await eventually('the channel info', async () => {
      const body = (await (await sdk.get({ path: '/channels/presence-info', params: { info: 'user_count,subscription_count' } })).json()) as Record<string, unknown>;
      return body.subscription_count === 1 ? body : undefined;
    });
    expect(info).toEqual({ occupied: true, user_count: 1, subscription_count: 1 });
    expect(await (await sdk.get({ path: '/channels/presence-info/users' })).json()).toEqual({ users: [{ id: '7' }] });
    expect(await (await sdk.get({ path: '/channels/nobody-here' })).json()).toEqual({ occupied: false });
    await expect(sdk.get({ path: '/channels/public-x', params: { info: 'user_count' } })).rejects.toMatchObject({ status: 400 });
    await expect(sdk.get({ path: '/channels/public-x/users' })).rejects.toMatchObject({ status: 400 });

    await sdk.trigger('cache-quote', 'q', { price: 10 });
    const cached = (await (await sdk.get({ path: '/channels/cache-quote', params: { info: 'cache' } })).json()) as { cache?: { data: string; ttl: number } };
    expect(JSON.parse(cached.cache!.data)).toEqual({ price: 10 });
    expect(cached.cache!.ttl).toBeGreaterThan(0);
  });

  test('terminateUserConnections closes the signed-in sockets of that user with 4009 and pusher-js stays disconnected; a socket only in presence as that id stays', async () => {
    const signedIn = client(0, { signinAs: { id: 'evicted' } });
    signedIn.signin();
    await eventually('the signin', () => ((signedIn.user as { user_data?: { id?: string } | null }).user_data?.id === 'evicted' ? true : undefined));
    const presenceOnly = client(1, { user: { user_id: 'evicted' } });
    await subscribed(presenceOnly, 'presence-evict');
    const errors: { data?: { code?: number } }[] = [];
    signedIn.connection.bind('error', (e: { data?: { code?: number } }) => errors.push(e));
    expect(await (await pusherServer(stack).terminateUserConnections('evicted')).json()).toEqual({});
    await eventually('the termination', () => (signedIn.connection.state === 'disconnected' ? true : undefined));
    expect(errors.some((e) => e.data?.code === 4009)).toBe(true);
    expect(presenceOnly.connection.state).toBe('connected');
  });
});

describe('signatures fail closed', () => {
  test('a correctly signed request by hand is accepted (the helper signs as the SDK does)', async () => {
    expect(await signed('POST', '/events', { body: trigger })).toEqual({ status: 200, text: '{}' });
  });

  test('a wrong signature is 401 with Pusher-style text', async () => {
    const res = await signed('POST', '/events', { body: trigger, secret: 'not-the-secret' });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/^Invalid signature/);
  });

  test('a timestamp more than 600 s away is 401', async () => {
    const res = await signed('POST', '/events', { body: trigger, timestamp: Math.floor(Date.now() / 1000) - 601 });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/^Timestamp expired/);
  });

  test('a body whose md5 differs from body_md5 is 401, even when the rest is signed correctly', async () => {
    const res = await signed('POST', '/events', { body: trigger, md5: createHash('md5').update('{"other":1}').digest('hex') });
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/body_md5/);
  });

  test("another app's key is 401 and an unknown app is 404", async () => {
    expect((await signed('POST', '/events', { body: trigger, key: 'app-key-2', secret: 'app-secret-2' })).status).toBe(401);
    expect((await signed('POST', '/events', { body: trigger, appId: '999' })).status).toBe(404);
  });
});

describe("Pusher's limits", () => {
  test('more than 100 channels is 400, more than 10 batch events is 400, data over 10 KB is 413', async () => {
    const channels = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect((await signed('POST', '/events', { body: { ...trigger, channels } })).status).toBe(400);
    const batch = Array.from({ length: 11 }, () => ({ name: 'e', data: '{}', channel: 'x' }));
    expect((await signed('POST', '/batch_events', { body: { batch } })).status).toBe(400);
    expect((await signed('POST', '/events', { body: { ...trigger, data: 'x'.repeat(10 * 1024 + 1) } })).status).toBe(413);
    expect((await signed('POST', '/events', { body: { ...trigger, name: 'pusher_internal:member_added' } })).status).toBe(400);
  });
});
