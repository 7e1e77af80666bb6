import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { connected, eventually, pusherClient, pusherServer, startPusherStack, subscribed, waitFor, type PusherClient } from '../../support/pusher-clients.js';

let stack: LocalStack;
let c: PusherClient | undefined;

beforeAll(async () => {
  stack = await startPusherStack({ clients: 1 });
});
afterAll(async () => {
  c?.disconnect();
  await stack?.stop();
});

describe('pusher-js across a client-server restart', () => {
  // pusher-js retries 1 s after a close, then 15 s later when nothing listened (its fixed strategy timeouts): ~16 s.
  test('a drained client-server closes with 4200; pusher-js reconnects to its successor with a new socket_id and resubscribes', { timeout: 40_000 }, async () => {
    c = pusherClient(stack.clientUrls[0]!);
    const first = await connected(c);
    await subscribed(c, 'private-restart');
    const errors: { data?: { code?: number } }[] = [];
    c.connection.bind('error', (e: { data?: { code?: number } }) => errors.push(e));
    const resubscribed = waitFor(35_000, 'the resubscription', (done) => c!.channel('private-restart')!.bind('pusher:subscription_succeeded', () => done(true)));

    await stack.signalClient(0, 'SIGTERM');
    expect(errors.some((e) => e.data?.code === 4200)).toBe(true);
    await stack.startClient(0);
    await resubscribed;
    expect(c.connection.socket_id).not.toBe(first);

    const got = waitFor<unknown>(10_000, 'an event after the restart', (done) => c!.channel('private-restart')!.bind('after', (d: unknown) => done(d)));
    await eventually('the trigger to be delivered', async () => {
      await pusherServer(stack).trigger('private-restart', 'after', { ok: 1 });
      return Promise.race([got, new Promise((r) => setTimeout(() => r(undefined), 500))]);
    });
    expect(await got).toEqual({ ok: 1 });
  });
});
