import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { OTHER_APP, eventually, pusherClient, record, startPusherStack, subscribed, waitFor, type ClientOptions, type PusherClient } from '../../support/pusher-clients.js';

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

type Members = { count: number; me: { id: string; info: unknown }; each(f: (m: { id: string; info: unknown }) => void): void };
const ids = (members: Members) => {
  const out: string[] = [];
  members.each((m) => out.push(m.id));
  return out.sort();
};

describe('presence channels with pusher-js on two client-servers', () => {
  test('the member list includes the subscriber itself, and an integer user_id (as Laravel sends it) is the string id', async () => {
    const a = client(0, { user: { user_id: 7, user_info: { name: 'Ann' } } });
    const { data } = await subscribed(a, 'presence-lobby');
    const members = data as Members;
    expect(members.count).toBe(1);
    // The hash is keyed by the string id; pusher-js's `me` keeps the id as its own channel_data had it.
    expect(ids(members)).toEqual(['7']);
    expect(members.me.info).toEqual({ name: 'Ann' });
  });

  test('two users: each sees the other join once and leave once, across client-servers', async () => {
    const a = client(0, { user: { user_id: 'ann', user_info: { name: 'Ann' } } });
    await subscribed(a, 'presence-room-1');
    const seenA = record(a.channel('presence-room-1'));
    const b = client(1, { user: { user_id: 'bob', user_info: { name: 'Bob' } } });
    const { data } = await subscribed(b, 'presence-room-1');
    expect(ids(data as Members)).toEqual(['ann', 'bob']);
    await eventually('ann to see bob join', () => (seenA.some((e) => e.event === 'pusher:member_added') ? true : undefined));
    b.unsubscribe('presence-room-1');
    await eventually('ann to see bob leave', () => (seenA.some((e) => e.event === 'pusher:member_removed') ? true : undefined));
    expect(seenA.filter((e) => e.event.startsWith('pusher:member'))).toEqual([
      { event: 'pusher:member_added', data: { id: 'bob', info: { name: 'Bob' } } },
      { event: 'pusher:member_removed', data: { id: 'bob', info: { name: 'Bob' } } },
    ]);
  });

  test('one user with two connections on two client-servers joins once and leaves only with its last connection', async () => {
    const watcher = client(0, { user: { user_id: 'watcher' } });
    await subscribed(watcher, 'presence-room-2');
    const seen = record(watcher.channel('presence-room-2'));
    const first = client(0, { user: { user_id: 'carol', user_info: { tab: 1 } } });
    const second = client(1, { user: { user_id: 'carol', user_info: { tab: 2 } } });
    await subscribed(first, 'presence-room-2');
    const { data } = await subscribed(second, 'presence-room-2');
    expect((data as Members).count).toBe(2);
    first.disconnect();
    // The watcher still counts carol: a later join by someone else proves the events so far were all seen.
    const dave = client(1, { user: { user_id: 'dave' } });
    await subscribed(dave, 'presence-room-2');
    await eventually('the watcher to see dave', () => (seen.some((e) => e.event === 'pusher:member_added' && (e.data as { id: string }).id === 'dave') ? true : undefined));
    expect(seen.filter((e) => e.event.startsWith('pusher:member')).map((e) => `${e.event}:${(e.data as { id: string }).id}`)).toEqual([
      'pusher:member_added:carol',
      'pusher:member_added:dave',
    ]);
    second.disconnect();
    await eventually('carol to leave with her last connection', () => (seen.some((e) => e.event === 'pusher:member_removed') ? true : undefined));
    expect(seen.filter((e) => e.event === 'pusher:member_removed').map((e) => (e.data as { id: string }).id)).toEqual(['carol']);
  });
});

describe('client events', () => {
  test('a client event reaches the others on a presence channel with the sender user_id, never the sender', async () => {
    const a = client(0, { user: { user_id: 'ann' } });
    const b = client(1, { user: { user_id: 'bob' } });
    await subscribed(a, 'presence-chat');
    await subscribed(b, 'presence-chat');
    const seenA = record(a.channel('presence-chat'));
    const got = waitFor<{ data: unknown; metadata: unknown }>(10_000, 'the whisper', (done) =>
      b.channel('presence-chat')!.bind('client-typing', (data: unknown, metadata: unknown) => done({ data, metadata })),
    );
    expect(a.channel('presence-chat')!.trigger('client-typing', { typing: true, n: 1 })).toBe(true);
    const event = await got;
    expect(event.data).toEqual({ typing: true, n: 1 });
    expect(event.metadata).toEqual({ user_id: 'ann' });
    // b answers; a receiving that proves a's own event would have arrived by now.
    b.channel('presence-chat')!.trigger('client-reply', {});
    await eventually('the reply', () => (seenA.some((e) => e.event === 'client-reply') ? true : undefined));
    expect(seenA.map((e) => e.event)).not.toContain('client-typing');
  });

  test('a private channel client event has no user_id', async () => {
    const a = client(1);
    const b = client(0);
    await Promise.all([subscribed(a, 'private-dm'), subscribed(b, 'private-dm')]);
    const got = waitFor<unknown>(10_000, 'the event', (done) => b.channel('private-dm')!.bind('client-ping', (_d: unknown, metadata: unknown) => done(metadata)));
    a.channel('private-dm')!.trigger('client-ping', 'hello');
    expect(await got).toEqual({});
  });

  test('over ten client events a second are rejected with pusher:error 4301 and the socket stays', async () => {
    const a = client(0);
    await subscribed(a, 'private-flood');
    const errors: { data?: { code?: number } }[] = [];
    a.connection.bind('error', (e: { data?: { code?: number } }) => errors.push(e));
    for (let i = 0; i < 30; i++) a.channel('private-flood')!.trigger('client-x', { i });
    await eventually('a 4301', () => (errors.some((e) => e.data?.code === 4301) ? true : undefined));
    expect(a.connection.state).toBe('connected');
  });

  test('an app without client events refuses them with pusher:error; the socket stays', async () => {
    const a = client(1, { app: OTHER_APP });
    await subscribed(a, 'private-nope');
    const errors: { data?: { code?: unknown; message?: string } }[] = [];
    a.connection.bind('error', (e: { data?: { code?: unknown; message?: string } }) => errors.push(e));
    a.channel('private-nope')!.trigger('client-x', {});
    await eventually('the refusal', () => (errors.length > 0 ? true : undefined));
    expect(errors[0]!.data?.message).toMatch(/not enabled/);
    expect(a.connection.state).toBe('connected');
  });
});
