import type { FastifyInstance } from 'fastify';
import { onTestFinished, describe, expect, test } from 'vitest';
import { createMemoryEngine, type MemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { MAX_PRESENCE_MEMBERS } from '../../services/source-server/routes/server-api/channels.js';
import { AUTH, errorCode, publish, useSource, type TestSource } from '../support/source-app.js';

const get = (app: FastifyInstance, url: string) => app.inject({ method: 'GET', url, headers: AUTH });

/**
 * Another replica on the source's broker, standing for a client-server: it
 * occupies channels, reports its subscription counts and joins presence
 * exactly as a client-server's hub does through its own engine.
 */
function clientServerReplica(source: TestSource): MemoryEngine {
  const replica = createMemoryEngine({ config: source.config, logger: source.logger, broker: source.engine.broker });
  onTestFinished(() => replica.close());
  return replica;
}

async function subscribe(replica: MemoryEngine, channel: string, count: number): Promise<void> {
  await replica.channels.occupy(channel);
  replica.channels.report(channel, count);
}

describe('GET /v1/channels/{channel}', () => {
  test('a channel nobody used: no subscribers, presence null, lastId null (not 404)', async () => {
    const { app } = useSource();
    const response = await get(app, '/v1/channels/quiet');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ channel: 'quiet', subscribers: 0, presence: null, lastId: null });
  });

  test('counts subscriptions on every client-server, distinct presence users, and names the last event', async () => {
    const source = useSource();
    const [a, b] = [clientServerReplica(source), clientServerReplica(source)];
    await subscribe(a, 'room', 3);
    await subscribe(b, 'room', 2);
    await a.presence.join('room', 'c1', { user: 'u1', info: {} });
    await b.presence.join('room', 'c2', { user: 'u1', info: {} });
    await b.presence.join('room', 'c3', { user: 'u2', info: {} });
    await publish(source.app, 'room', '1');
    const { id } = (await publish(source.app, 'room', '2')).json() as { id: string };

    expect((await get(source.app, '/v1/channels/room')).json()).toEqual({ channel: 'room', subscribers: 5, presence: { count: 2 }, lastId: id });
  });

  test('a bad channel name is 400 invalid_channel', async () => {
    const { app } = useSource();
    expect(errorCode(await get(app, '/v1/channels/a%20b'))).toBe('invalid_channel');
    expect(errorCode(await get(app, `/v1/channels/${'c'.repeat(129)}`))).toBe('invalid_channel');
  });
});

describe('GET /v1/channels', () => {
  async function occupied(source: TestSource, names: string[]): Promise<void> {
    const replica = clientServerReplica(source);
    for (const [i, name] of names.entries()) await subscribe(replica, name, i + 1);
  }

  test('lists the channels with subscribers anywhere, by name, with their counts', async () => {
    const source = useSource();
    await occupied(source, ['b', 'a', 'c']);
    expect((await get(source.app, '/v1/channels')).json()).toEqual({
      channels: [
        { channel: 'a', subscribers: 2 },
        { channel: 'b', subscribers: 1 },
        { channel: 'c', subscribers: 3 },
      ],
      next: null,
    });
  });

  test('prefix selects a namespace; limit and after page through it', async () => {
    const source = useSource();
    await occupied(source, ['orders:eu', 'orders:us', 'orders:asia', 'news', 'ordersx']);
    const first = (await get(source.app, '/v1/channels?prefix=orders:&limit=2')).json() as { channels: { channel: string }[]; next: string | null };
    expect(first.channels.map((c) => c.channel)).toEqual(['orders:asia', 'orders:eu']);
    expect(first.next).toBe('orders:eu');
    const second = (await get(source.app, `/v1/channels?prefix=orders:&limit=2&after=${first.next}`)).json() as typeof first;
    expect(second).toEqual({ channels: [{ channel: 'orders:us', subscribers: 2 }], next: null });
  });

  test('a channel whose last subscriber left is no longer listed', async () => {
    const source = useSource();
    const replica = clientServerReplica(source);
    await subscribe(replica, 'gone', 1);
    await replica.channels.vacate('gone');
    expect((await get(source.app, '/v1/channels')).json()).toEqual({ channels: [], next: null });
  });

  test.each([
    ['limit=0'],
    ['limit=1001'],
    ['limit=x'],
    ['prefix=a%20b'],
    [`prefix=${'p'.repeat(129)}`],
    ['after=a%2Fb'],
    ['after='],
    ['prefix=a&prefix=b'],
  ])('%s is 400 invalid_request', async (query) => {
    const { app } = useSource();
    const response = await get(app, `/v1/channels?${query}`);
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
  });
});

describe('GET /v1/channels/{channel}/presence', () => {
  test('lists each user once, with its info and its connections on every client-server', async () => {
    const source = useSource();
    const [a, b] = [clientServerReplica(source), clientServerReplica(source)];
    await a.presence.join('room', 'c1', { user: 'u2', info: { name: 'Bea' } });
    await a.presence.join('room', 'c2', { user: 'u1', info: { name: 'Al' } });
    await b.presence.join('room', 'c3', { user: 'u1', info: { name: 'Al' } });
    const response = await get(source.app, '/v1/channels/room/presence');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      count: 2,
      members: [
        { user: 'u1', info: { name: 'Al' }, connections: 2 },
        { user: 'u2', info: { name: 'Bea' }, connections: 1 },
      ],
    });
  });

  test('an empty channel has count 0 and no members', async () => {
    const { app } = useSource();
    expect((await get(app, '/v1/channels/empty/presence')).json()).toEqual({ count: 0, members: [] });
  });

  test(`lists at most ${MAX_PRESENCE_MEMBERS} members, then says truncated:true; count stays the full number`, async () => {
    const source = useSource();
    const replica = clientServerReplica(source);
    const users = MAX_PRESENCE_MEMBERS + 1;
    for (let i = 0; i < users; i++) await replica.presence.join('crowd', `c${i}`, { user: `u${String(i).padStart(4, '0')}`, info: {} });
    const body = (await get(source.app, '/v1/channels/crowd/presence')).json() as { count: number; members: { user: string }[]; truncated?: boolean };
    expect(body.count).toBe(users);
    expect(body.members).toHaveLength(MAX_PRESENCE_MEMBERS);
    expect(body.members[0]!.user).toBe('u0000');
    expect(body.truncated).toBe(true);
  });

  test('a bad channel name is 400 invalid_channel', async () => {
    const { app } = useSource();
    expect(errorCode(await get(app, '/v1/channels/a%20b/presence'))).toBe('invalid_channel');
  });
});
