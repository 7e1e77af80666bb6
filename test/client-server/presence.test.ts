import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { TokenClaims } from '../support/client-server.js';
import { DEPLOYMENTS, startDeployment, type Deployment } from '../support/client-deployment.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket, type ServerMessage } from '../support/ws-client.js';

/**
 * PROTOCOL.md v1.1, Presence, on two client-servers sharing one broker:
 * every kind in DEPLOYMENTS (the in-memory broker; Redis once its presence lands).
 */

describe.each(DEPLOYMENTS)('presence ($name)', (kind) => {
  let deployment: Deployment;
  const sockets: TestSocket[] = [];
  const streams: TestEventStream[] = [];

  beforeEach(async () => {
    deployment = await startDeployment(kind, 2);
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    streams.splice(0).forEach((s) => s.close());
    await deployment.close();
  });

  const server = (i: number) => deployment.servers[i]!;
  async function connect(i: number, sub: string | undefined, extra: TokenClaims = {}): Promise<TestSocket> {
    const token = server(i).token(['*'], { sub, presence: ['room:*'], ...extra });
    const socket = await TestSocket.open(server(i).wsUrl, { token });
    sockets.push(socket);
    return socket;
  }
  async function join(socket: TestSocket, channel = 'room:1'): Promise<ServerMessage> {
    socket.send({ type: 'subscribe', channel, presence: true });
    return socket.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.channel === channel);
  }
  /** Waits until `socket` has been sent everything up to now: a ping's pong comes after it. */
  async function settle(socket: TestSocket): Promise<void> {
    socket.send({ type: 'ping' });
    await socket.next((m) => m.type === 'pong');
  }
  const presenceOf = (socket: TestSocket) => socket.messages.filter((m) => m.type === 'join' || m.type === 'leave');
  /** Changes reach other client-servers through the broker; wait until `socket` heard `count` of them. */
  async function heard(socket: TestSocket, count: number): Promise<ServerMessage[]> {
    const deadline = Date.now() + 10_000;
    while (presenceOf(socket).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return presenceOf(socket);
  }

  test('the subscribed reply lists the members, its own user included, with their info', async () => {
    const alice = await connect(0, 'alice', { info: { name: 'Alice' } });
    expect(await join(alice)).toEqual({
      type: 'subscribed',
      channel: 'room:1',
      recovered: true,
      presence: { count: 1, members: [{ user: 'alice', info: { name: 'Alice' } }] },
    });
    const bob = await connect(1, 'bob');
    expect((await join(bob)).presence).toEqual({
      count: 2,
      members: [
        { user: 'alice', info: { name: 'Alice' } },
        { user: 'bob', info: {} },
      ],
    });
  });

  test('others hear join and leave of a user; the user never hears its own', async () => {
    const alice = await connect(0, 'alice');
    await join(alice);
    const bob = await connect(1, 'bob', { info: { role: 'guest' } });
    await join(bob);
    expect(await heard(alice, 1)).toEqual([{ type: 'join', channel: 'room:1', user: 'bob', info: { role: 'guest' } }]);
    bob.send({ type: 'unsubscribe', channel: 'room:1' });
    await bob.next((m) => m.type === 'unsubscribed');
    expect(await heard(alice, 2)).toEqual([
      { type: 'join', channel: 'room:1', user: 'bob', info: { role: 'guest' } },
      { type: 'leave', channel: 'room:1', user: 'bob' },
    ]);
    await settle(bob);
    expect(presenceOf(bob)).toEqual([]);
  });

  test('a user with two connections, on two client-servers, joins once and leaves once', async () => {
    const watcher = await connect(0, 'watcher');
    await join(watcher);
    const first = await connect(0, 'u2');
    await join(first);
    expect(await heard(watcher, 1)).toEqual([expect.objectContaining({ type: 'join', user: 'u2' })]);
    const second = await connect(1, 'u2');
    expect((await join(second)).presence).toMatchObject({ count: 2 });
    first.close();
    // The second connection still holds u2 in the channel: no leave.
    const probe = await connect(1, 'probe');
    expect((await join(probe)).presence).toMatchObject({ count: 3 });
    await heard(watcher, 2);
    expect(presenceOf(watcher).filter((m) => m.user === 'u2')).toHaveLength(1);
    second.close();
    const messages = await heard(watcher, 3);
    expect(messages.filter((m) => m.user === 'u2')).toEqual([
      expect.objectContaining({ type: 'join', user: 'u2' }),
      { type: 'leave', channel: 'room:1', user: 'u2' },
    ]);
    // Each connection of a watching user hears a change once.
    expect(messages.map((m) => `${m.type} ${m.user as string}`)).toEqual(['join u2', 'join probe', 'leave u2']);
  });

  test('a connection closing without unsubscribing is a leave at once', async () => {
    const alice = await connect(0, 'alice');
    await join(alice);
    const bob = await connect(1, 'bob');
    await join(bob);
    await heard(alice, 1);
    bob.close();
    expect((await heard(alice, 2))[1]).toEqual({ type: 'leave', channel: 'room:1', user: 'bob' });
    expect((await server(0).engine.presence.members('room:1', 10)).members.map((m) => m.user)).toEqual(['alice']);
  });

  test.each<[string, { sub?: string; presence?: string[] }]>([
    ['without sub', { sub: undefined }],
    ['without a presence pattern', { sub: 'alice', presence: [] }],
    ['with a presence pattern that does not match', { sub: 'alice', presence: ['lobby'] }],
  ])('a presence subscribe %s is forbidden and subscribes nothing', async (_name, claims) => {
    const socket = await connect(0, claims.sub, claims.presence ? { presence: claims.presence } : {});
    expect(await join(socket)).toMatchObject({ type: 'error', code: 'forbidden', channel: 'room:1' });
    await server(0).publish('room:1', 'after');
    await settle(socket);
    expect(socket.events()).toEqual([]);
    expect(server(0).app.clientRelay.hub.channelCount).toBe(0);
    expect((await server(0).engine.presence.members('room:1', 10)).count).toBe(0);
    // The same token subscribes without presence.
    socket.send({ type: 'subscribe', channel: 'room:1' });
    expect(await socket.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', channel: 'room:1', recovered: true });
  });

  test('a subscribe without presence is no member and hears no join or leave', async () => {
    const quiet = await connect(0, 'quiet');
    quiet.send({ type: 'subscribe', channel: 'room:1' });
    expect(await quiet.next((m) => m.type === 'subscribed')).not.toHaveProperty('presence');
    const alice = await connect(1, 'alice');
    expect((await join(alice)).presence).toEqual({ count: 1, members: [{ user: 'alice', info: {} }] });
    alice.close();
    await new Promise((r) => setTimeout(r, 100));
    await settle(quiet);
    expect(presenceOf(quiet)).toEqual([]);
  });

  test('more than 1,000 members: 1,000 listed and truncated', async () => {
    const others = server(1).engine.presence;
    await Promise.all(Array.from({ length: 1001 }, (_, i) => others.join('room:big', `c${i}`, { user: `u${String(i).padStart(4, '0')}`, info: {} })));
    const alice = await connect(0, 'alice');
    const reply = await join(alice, 'room:big');
    const presence = reply.presence as { count: number; members: { user: string }[]; truncated?: boolean };
    expect(presence.count).toBe(1002);
    expect(presence.members).toHaveLength(1000);
    expect(presence.truncated).toBe(true);
    expect(presence.members[0]!.user).toBe('alice');
  });

  test('memberships of this client-server are counted in eventrelay_presence_memberships', async () => {
    const alice = await connect(0, 'alice');
    await join(alice, 'room:1');
    await join(alice, 'room:2');
    const gauge = async () => /eventrelay_presence_memberships (\d+)/.exec(await (await fetch(`${server(0).httpUrl}/metrics`)).text())?.[1];
    expect(await gauge()).toBe('2');
    alice.close();
    await expect.poll(gauge).toBe('0');
  });

  describe('over SSE', () => {
    async function open(i: number, path: string, sub: string | undefined): Promise<TestEventStream> {
      const token = server(i).token(['*'], { sub, presence: ['room:*'] });
      const stream = await TestEventStream.open(`${server(i).httpUrl}${path}`, { authorization: `Bearer ${token}` });
      streams.push(stream);
      return stream;
    }

    test('?presence=true lists members in the subscribed event, then join and leave are named events', async () => {
      const alice = await connect(1, 'alice');
      await join(alice);
      const stream = await open(0, '/v1/sse/room:1?presence=true', 'bob');
      expect(stream.status).toBe(200);
      const [opening] = await stream.waitFor(1);
      expect(opening!.event).toBe('subscribed');
      expect(JSON.parse(opening!.data)).toEqual({
        type: 'subscribed',
        channel: 'room:1',
        recovered: true,
        presence: { count: 2, members: [{ user: 'alice', info: {} }, { user: 'bob', info: {} }] },
      });
      expect(await heard(alice, 1)).toEqual([expect.objectContaining({ type: 'join', user: 'bob' })]);
      const carol = await connect(1, 'carol');
      await join(carol);
      carol.close();
      const messages = await stream.waitFor(3);
      expect(messages.slice(1)).toEqual([
        { event: 'join', data: '{"type":"join","channel":"room:1","user":"carol","info":{}}' },
        { event: 'leave', data: '{"type":"leave","channel":"room:1","user":"carol"}' },
      ]);
      stream.close();
      expect((await heard(alice, 4)).slice(3)).toEqual([{ type: 'leave', channel: 'room:1', user: 'bob' }]);
    });

    test('?presence=true without sub is 403 forbidden', async () => {
      const stream = await open(0, '/v1/sse/room:1?presence=true', undefined);
      expect(stream.status).toBe(403);
      expect(JSON.parse(await stream.body())).toMatchObject({ error: { code: 'forbidden' } });
    });
  });
});
