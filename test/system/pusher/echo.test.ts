import Echo from 'laravel-echo';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { APP, connected, eventually, pusherClient, pusherServer, startPusherStack, waitFor, type ClientOptions, type PusherClient } from '../../support/pusher-clients.js';

let stack: LocalStack;
const echoes: Echo<'pusher'>[] = [];

/** Laravel Echo 2 over a real pusher-js client of client-server `i`, as a Laravel page builds it. */
function echo(i: number, options: ClientOptions = {}): Echo<'pusher'> {
  const client: PusherClient = pusherClient(stack.clientUrls[i % 2]!, options);
  const e = new Echo({ broadcaster: 'pusher', client, key: APP.key, withoutInterceptors: true } as ConstructorParameters<typeof Echo<'pusher'>>[0]);
  echoes.push(e);
  return e;
}

beforeAll(async () => {
  stack = await startPusherStack();
});
afterAll(async () => {
  for (const e of echoes) e.disconnect();
  await stack?.stop();
});

describe('Laravel Echo 2 on pusher-js', () => {
  test('channel().listen() receives a broadcast under its Laravel event name, and toOthers() skips the sender', async () => {
    const [mine, theirs] = [echo(0), echo(1)];
    const seenMine: unknown[] = [];
    mine.channel('orders').listen('OrderShipped', (e: unknown) => seenMine.push(e));
    const got = waitFor<unknown>(10_000, 'the broadcast', (done) => theirs.channel('orders').listen('OrderShipped', (e: unknown) => done(e)));
    await eventually('both subscribed', () => (mine.connector.channels['orders']?.subscription.subscribed && theirs.connector.channels['orders']?.subscription.subscribed ? true : undefined));
    const socketId = await connected(mine.connector.pusher as PusherClient);
    // What Laravel's PusherBroadcaster sends for `broadcast(new OrderShipped($order))->toOthers()`.
    await pusherServer(stack).trigger('orders', 'App\\Events\\OrderShipped', { order: { id: 1 } }, { socket_id: socketId });
    expect(await got).toEqual({ order: { id: 1 } });
    const second = waitFor<unknown>(10_000, 'a second broadcast', (done) => mine.channel('orders').listen('.plain-name', (e: unknown) => done(e)));
    await pusherServer(stack).trigger('orders', 'plain-name', { n: 2 });
    expect(await second).toEqual({ n: 2 });
    expect(seenMine).toEqual([]);
  });

  test('private() subscribes private-<name> through the auth endpoint and listens', async () => {
    const e = echo(1);
    const got = waitFor<unknown>(10_000, 'the private broadcast', (done) => e.private('App.Models.User.1').listen('.notice', (d: unknown) => done(d)));
    await eventually('subscribed', () => (e.connector.channels['private-App.Models.User.1']?.subscription.subscribed ? true : undefined));
    await pusherServer(stack).trigger('private-App.Models.User.1', 'notice', { hi: 1 });
    expect(await got).toEqual({ hi: 1 });
  });

  test('join(): here() lists the users, joining() and leaving() report the other user once; whisper reaches the other', async () => {
    const ann = echo(0, { user: { user_id: 1, user_info: { id: 1, name: 'Ann' } } });
    const here = waitFor<unknown[]>(10_000, 'here()', (done) => ann.join('chat.1').here((users: unknown[]) => done(users)));
    expect(await here).toEqual([{ id: 1, name: 'Ann' }]);
    const joined: unknown[] = [];
    const left: unknown[] = [];
    const whispers: unknown[] = [];
    ann
      .join('chat.1')
      .joining((u: unknown) => joined.push(u))
      .leaving((u: unknown) => left.push(u))
      .listenForWhisper('typing', (w: unknown) => whispers.push(w));

    const bob = echo(1, { user: { user_id: 2, user_info: { id: 2, name: 'Bob' } } });
    const bobHere = waitFor<unknown[]>(10_000, "bob's here()", (done) => bob.join('chat.1').here((users: unknown[]) => done(users)));
    expect(((await bobHere) as { id: number }[]).map((u) => u.id).sort()).toEqual([1, 2]);
    await eventually('ann to see bob join', () => (joined.length === 1 ? true : undefined));
    expect(joined).toEqual([{ id: 2, name: 'Bob' }]);

    bob.join('chat.1').whisper('typing', { typing: true });
    await eventually('the whisper', () => (whispers.length === 1 ? true : undefined));
    expect(whispers).toEqual([{ typing: true }]);

    bob.leave('chat.1');
    await eventually('ann to see bob leave', () => (left.length === 1 ? true : undefined));
    expect(left).toEqual([{ id: 2, name: 'Bob' }]);
  });
});
