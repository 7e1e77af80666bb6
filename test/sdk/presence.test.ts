import { afterEach, describe, expect, test } from 'vitest';
import { connect, type EventRelayClient, type PresenceChange, type RelayEvent, type SubscribedInfo } from '../../sdk/src/index.js';
import { FakeServer } from './fake-socket.js';

// The server does not implement v1.1 yet: these play its side with the exact PROTOCOL.md v1.1 messages.
const fast = { backoff: { baseMs: 1, maxMs: 1, random: () => 0 }, pingIntervalMs: 0 };
const clients: EventRelayClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function start(server: FakeServer): EventRelayClient {
  const client = connect('http://relay.test:8081', { ...fast, socketFactory: server.factory });
  clients.push(client);
  return client;
}

const u1 = { user: 'u1', info: { name: 'Ada' } };
const u2 = { user: 'u2', info: { name: 'Grace' } };

describe('presence', () => {
  test('subscribing with presence sends presence:true and exposes the members of the subscribed reply', async () => {
    const server = new FakeServer();
    const client = start(server);
    const subscribed: SubscribedInfo[] = [];
    client.subscribe('room:1', () => {}, { presence: true, onSubscribed: (info) => subscribed.push(info) });
    const socket = await server.attempt(0);
    socket.accept();
    expect(socket.sent).toEqual([{ type: 'subscribe', channel: 'room:1', presence: true }]);
    socket.reply({ type: 'subscribed', channel: 'room:1', recovered: true, presence: { count: 2, members: [u1, u2] } });
    expect(subscribed[0]?.presence).toEqual({ count: 2, members: [u1, u2], truncated: false });
    expect(client.presence('room:1')).toEqual({ count: 2, members: [u1, u2], truncated: false });
  });

  test('join and leave update the member list and are reported with it', async () => {
    const server = new FakeServer();
    const client = start(server);
    const changes: PresenceChange[] = [];
    client.subscribe('room:1', () => {}, { presence: true, onPresence: (c) => changes.push(c) });
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'subscribed', channel: 'room:1', recovered: true, presence: { count: 1, members: [u1] } });
    socket.reply({ type: 'join', channel: 'room:1', user: 'u2', info: { name: 'Grace' } });
    socket.reply({ type: 'leave', channel: 'room:1', user: 'u1' });
    expect(changes.map((c) => [c.type, c.user, c.presence.count, c.presence.members.map((m) => m.user)])).toEqual([
      ['sync', undefined, 1, ['u1']],
      ['join', 'u2', 2, ['u1', 'u2']],
      ['leave', 'u1', 1, ['u2']],
    ]);
    expect(changes[1]?.info).toEqual({ name: 'Grace' });
  });

  test('a truncated list still counts every user: a leave of an unlisted user lowers the count', async () => {
    const server = new FakeServer();
    const client = start(server);
    client.subscribe('big', () => {}, { presence: true });
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'subscribed', channel: 'big', recovered: true, presence: { count: 1500, members: [u1], truncated: true } });
    socket.reply({ type: 'leave', channel: 'big', user: 'unlisted' });
    expect(client.presence('big')).toMatchObject({ count: 1499, truncated: true });
  });

  test('after a reconnect the subscribed reply replaces the member list: who left meanwhile is gone', async () => {
    const server = new FakeServer();
    const client = start(server);
    client.subscribe('room:1', () => {}, { presence: true });
    const first = await server.attempt(0);
    first.accept();
    first.reply({ type: 'subscribed', channel: 'room:1', recovered: true, presence: { count: 2, members: [u1, u2] } });
    first.drop(1001);
    const second = await server.attempt(1);
    second.accept();
    expect(second.sent).toEqual([{ type: 'subscribe', channel: 'room:1', presence: true }]);
    second.reply({ type: 'subscribed', channel: 'room:1', recovered: true, presence: { count: 1, members: [u1] } });
    expect(client.presence('room:1')?.members).toEqual([u1]);
  });

  test('a subscription without presence has no member list and ignores join and leave', async () => {
    const server = new FakeServer();
    const client = start(server);
    const changes: PresenceChange[] = [];
    client.on('presence', (c) => changes.push(c));
    client.subscribe('room:1', () => {});
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'join', channel: 'room:1', user: 'u2', info: {} });
    expect(client.presence('room:1')).toBeUndefined();
    expect(changes).toEqual([]);
  });
});

describe('events published by clients', () => {
  test('an event carries the publisher field when the server sent one, and none otherwise', async () => {
    const server = new FakeServer();
    const client = start(server);
    const got: RelayEvent[] = [];
    client.subscribe('room:1', (e) => got.push(e));
    const socket = await server.attempt(0);
    socket.accept();
    socket.reply({ type: 'event', channel: 'room:1', id: '1-0', data: { t: 'hi' }, ts: 5, publisher: 'u2' });
    socket.reply({ type: 'event', channel: 'room:1', id: '2-0', data: 1, ts: 6 });
    expect(got).toEqual([
      { channel: 'room:1', id: '1-0', data: { t: 'hi' }, ts: 5, publisher: 'u2' },
      { channel: 'room:1', id: '2-0', data: 1, ts: 6 },
    ]);
  });
});
