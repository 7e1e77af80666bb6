import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { TestSocket } from '../../support/ws-client.js';
import { APP, OTHER_APP, connected, eventually, pusherClient, pusherServer, record, startPusherStack, subscribed, waitFor, type PusherClient } from '../../support/pusher-clients.js';

let stack: LocalStack;
const clients: PusherClient[] = [];
const client = (i: number, options: Parameters<typeof pusherClient>[1] = {}) => {
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

/** The next event `name` on `channel` of `c`, with pusher-js's metadata. */
function next(c: PusherClient, channel: string, name: string, timeoutMs = 10_000): Promise<{ data: unknown; metadata: unknown }> {
  return waitFor(timeoutMs, `${name} on ${channel}`, (done) => {
    const bound = (data: unknown, metadata: unknown) => {
      c.channel(channel)?.unbind(name, bound);
      done({ data, metadata });
    };
    c.channel(channel)!.bind(name, bound);
  });
}

describe('pusher-js against two client-servers on one Redis', () => {
  test('a public channel receives an event triggered through the HTTP API, on both client-servers, with data as the SDK sent it', async () => {
    const [a, b] = [client(0), client(1)];
    await Promise.all([subscribed(a, 'news'), subscribed(b, 'news')]);
    const got = Promise.all([next(a, 'news', 'order-shipped'), next(b, 'news', 'order-shipped')]);
    await pusherServer(stack).trigger('news', 'order-shipped', { id: 12345678901234567890n.toString(), n: 1 });
    const [ea, eb] = await got;
    expect(ea.data).toEqual({ id: '12345678901234567890', n: 1 });
    expect(eb.data).toEqual({ id: '12345678901234567890', n: 1 });
  });

  test('a data string that is not JSON arrives as that string', async () => {
    const a = client(0);
    await subscribed(a, 'plain');
    const got = next(a, 'plain', 'note');
    await pusherServer(stack).trigger('plain', 'note', 'not json');
    expect((await got).data).toBe('not json');
  });

  test('names with Pusher punctuation (= @ , ; .) are channels of their own', async () => {
    const a = client(1);
    const name = 'private-room=1@eu,a;b.App.Models.User.1';
    await subscribed(a, name);
    const got = next(a, name, 'hi');
    await pusherServer(stack).trigger(name, 'hi', { ok: true });
    expect((await got).data).toEqual({ ok: true });
  });

  test('a private channel subscribes with the auth endpoint signature; a signature for another socket_id is refused and the socket stays', async () => {
    const a = client(0);
    await subscribed(a, 'private-orders');
    const socketId = await connected(a);
    // A signature made for someone else's socket, replayed on this one.
    const stolen = pusherServer(stack).authorizeChannel('1234.5678', 'private-stolen').auth;
    expect(socketId).not.toBe('1234.5678');
    const other = client(1, {
      options: { channelAuthorization: { customHandler: (_p: unknown, cb: (e: Error | null, d: { auth: string } | null) => void) => cb(null, { auth: stolen }) } as never },
    });
    const error = await subscribed(other, 'private-stolen').then(
      () => undefined,
      (err: { data?: unknown }) => err.data,
    );
    expect(error).toMatchObject({ type: 'AuthError', status: 401 });
    expect(other.connection.state).toBe('connected');
    // The same socket still works for a channel it may have.
    await subscribed(other, 'news-after-refusal');
  });

  test('a private-encrypted channel carries ciphertext the relay cannot read, decrypted by pusher-js', async () => {
    const a = client(1);
    await subscribed(a, 'private-encrypted-vault');
    const got = next(a, 'private-encrypted-vault', 'secret');
    await pusherServer(stack).trigger('private-encrypted-vault', 'secret', { pin: 4321 });
    expect((await got).data).toEqual({ pin: 4321 });
  });

  test('socket_id excludes that one connection, on whichever client-server it is', async () => {
    const [a, b] = [client(0), client(1)];
    await Promise.all([subscribed(a, 'excl'), subscribed(b, 'excl')]);
    const seenA = record(a.channel('excl'));
    const gotB = next(b, 'excl', 'e');
    await pusherServer(stack).trigger('excl', 'e', { n: 1 }, { socket_id: a.connection.socket_id });
    await gotB;
    // A second event that a does get proves the first was skipped, not late.
    const gotA = next(a, 'excl', 'e2');
    await pusherServer(stack).trigger('excl', 'e2', { n: 2 });
    await gotA;
    expect(seenA.filter((e) => e.event === 'e')).toEqual([]);
  });

  test('a cache channel replays its last event to a new subscriber; an empty one answers pusher:cache_miss', async () => {
    await pusherServer(stack).trigger('cache-weather', 'update', { t: 1 });
    await pusherServer(stack).trigger('cache-weather', 'update', { t: 2 });
    const a = client(1);
    const channel = a.subscribe('cache-weather');
    const first = await waitFor<{ data: unknown }>(10_000, 'the cached event', (done) => channel.bind('update', (data: unknown) => done({ data })));
    expect(first.data).toEqual({ t: 2 });

    const b = client(0);
    const empty = b.subscribe('cache-empty');
    await waitFor(10_000, 'cache_miss', (done) => empty.bind('pusher:cache_miss', () => done(true)));
  });

  test('#server-to-user-<id> reaches the signed-in user only (sendToUser); another connection may not subscribe to it', async () => {
    const a = client(0, { signinAs: { id: 'u-42', user_info: { name: 'A' } } });
    a.signin();
    await eventually('the signin', () => ((a.user as { user_data?: { id?: string } | null }).user_data?.id === 'u-42' ? true : undefined));
    const got = waitFor<unknown>(10_000, 'a user event', (done) => a.user.bind('note', (data: unknown) => done(data)));
    // pusher-js subscribes #server-to-user-u-42 after the signin; the SDK posts to that channel.
    await eventually('the user channel to be subscribed', () => (a.user.serverToUserChannel?.subscribed ? true : undefined));
    await pusherServer(stack).sendToUser('u-42', 'note', { hello: 'you' });
    expect(await got).toEqual({ hello: 'you' });

    // pusher-js refuses to subscribe '#' names itself, so the intruder speaks the protocol over a plain socket.
    const intruder = await TestSocket.open(`${stack.clientUrls[1]!.replace('http', 'ws')}/app/${APP.key}?protocol=7`);
    await intruder.next((m) => m.event === 'pusher:connection_established');
    intruder.send({ event: 'pusher:subscribe', data: { auth: '', channel: '#server-to-user-u-42' } });
    const refusal = await intruder.next((m) => m.event === 'pusher:subscription_error');
    expect(JSON.parse(refusal.data as string)).toMatchObject({ status: 403 });
    intruder.ws.close();
  });

  test("app 2's clients never see app 1's channel of the same name", async () => {
    const one = client(0);
    const two = client(0, { app: OTHER_APP });
    await Promise.all([subscribed(one, 'shared-name'), subscribed(two, 'shared-name')]);
    const seenTwo = record(two.channel('shared-name'));
    const gotOne = next(one, 'shared-name', 'x');
    await pusherServer(stack, APP).trigger('shared-name', 'x', { app: 1 });
    await gotOne;
    const gotTwo = next(two, 'shared-name', 'y');
    await pusherServer(stack, OTHER_APP).trigger('shared-name', 'y', { app: 2 });
    expect((await gotTwo).data).toEqual({ app: 2 });
    expect(seenTwo.map((e) => e.event)).not.toContain('x');
  });

  test('an unknown app key is refused with pusher:error 4001 and a 4001 close, after which pusher-js stays disconnected', async () => {
    const c = client(1, { app: { id: '9', key: 'no-such-key', secret: 'x' } });
    const errors: unknown[] = [];
    c.connection.bind('error', (e: unknown) => errors.push(e));
    await eventually('pusher-js to give up', () => (c.connection.state === 'disconnected' ? true : undefined));
    expect(JSON.stringify(errors)).toContain('4001');
  });
});
