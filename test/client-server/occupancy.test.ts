import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { MemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { memoryDeployment, startDeployment, type Deployment } from '../support/client-deployment.js';
import { startClientServer } from '../support/client-server.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket, type ServerMessage } from '../support/ws-client.js';

/**
 * The hub's side of occupancy and presence (engine/channels.ts,
 * engine/presence.ts), read from the in-memory broker: the order of
 * transitions in the webhook outbox, the counts every client-server
 * reports, and the re-sync after a bus resume.
 */

const WEBHOOKS = { WEBHOOK_URLS: 'http://127.0.0.1:9/hooks', WEBHOOK_SECRET: 'w'.repeat(32) };

let deployment: Deployment;
const sockets: TestSocket[] = [];
beforeEach(async () => {
  deployment = await startDeployment(memoryDeployment, 2, WEBHOOKS);
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await deployment.close();
});

const server = (i: number) => deployment.servers[i]!;
const broker = () => (server(0).engine as MemoryEngine).broker;
const kinds = (channel: string) => (broker().outbox.get(channel) ?? []).map((t) => ('user' in t ? `${t.kind} ${t.user}` : t.kind));

async function connect(i: number, sub: string): Promise<TestSocket> {
  const socket = await TestSocket.open(server(i).wsUrl, { token: server(i).token(['*'], { sub, presence: ['*'] }) });
  sockets.push(socket);
  return socket;
}
async function subscribe(socket: TestSocket, channel: string, presence = false): Promise<ServerMessage> {
  socket.send({ type: 'subscribe', channel, presence });
  return socket.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.channel === channel);
}
async function unsubscribe(socket: TestSocket, channel: string): Promise<void> {
  socket.send({ type: 'unsubscribe', channel });
  await socket.next((m) => m.type === 'unsubscribed' && m.channel === channel);
}

describe('occupancy', () => {
  test('for one subscribe channel.occupied comes before presence.join; presence.leave before channel.vacated', async () => {
    const alice = await connect(0, 'alice');
    await subscribe(alice, 'room:1', true);
    expect(kinds('room:1')).toEqual(['channel.occupied', 'presence.join alice']);
    alice.close();
    await expect.poll(() => kinds('room:1')).toEqual(['channel.occupied', 'presence.join alice', 'presence.leave alice', 'channel.vacated']);
  });

  test('a slow presence leave still comes before the vacate of the last subscriber', async () => {
    const slow = await startClientServer({ LOG_LEVEL: 'warn', ...WEBHOOKS }, undefined, {
      engine: ({ config, logger }) => {
        const engine = createMemoryEngine({ config, logger });
        const { presence } = engine;
        const leave = presence.leave.bind(presence);
        // A Redis round trip, exaggerated: the vacate must wait for it.
        presence.leave = async (channel, connection) => {
          await new Promise((r) => setTimeout(r, 100));
          await leave(channel, connection);
        };
        return engine;
      },
    });
    try {
      const socket = await TestSocket.open(slow.wsUrl, { token: slow.token(['*'], { sub: 'alice', presence: ['*'] }) });
      await subscribe(socket, 'room:slow', true);
      socket.close();
      const outbox = () => ((slow.engine as MemoryEngine).broker.outbox.get('room:slow') ?? []).map((t) => t.kind);
      await expect.poll(outbox).toEqual(['channel.occupied', 'presence.join', 'presence.leave', 'channel.vacated']);
    } finally {
      await slow.close();
    }
  });

  test('a channel is occupied once for the deployment, vacated when its last subscriber anywhere leaves', async () => {
    const a = await connect(0, 'a');
    const b = await connect(1, 'b');
    await subscribe(a, 'room:1');
    await subscribe(b, 'room:1');
    await unsubscribe(a, 'room:1');
    expect(kinds('room:1')).toEqual(['channel.occupied']);
    await unsubscribe(b, 'room:1');
    await expect.poll(() => kinds('room:1')).toEqual(['channel.occupied', 'channel.vacated']);
    // Unsubscribe and subscribe in one breath: vacated, then occupied again, in that order.
    b.send({ type: 'subscribe', channel: 'room:1' });
    b.send({ type: 'unsubscribe', channel: 'room:1' });
    b.send({ type: 'subscribe', channel: 'room:1' });
    await b.next((m) => m.type === 'unsubscribed');
    await b.next((m) => m.type === 'subscribed');
    await expect.poll(() => kinds('room:1')).toEqual(['channel.occupied', 'channel.vacated', 'channel.occupied', 'channel.vacated', 'channel.occupied']);
  });

  test('each client-server reports its subscriptions of a channel; the channel list sees them, and drops a channel with none', async () => {
    const channels = server(0).engine.channels;
    const a = await connect(0, 'a');
    const b = await connect(0, 'b');
    const c = await connect(1, 'c');
    await subscribe(a, 'room:1');
    await subscribe(b, 'room:1');
    await subscribe(c, 'room:1');
    expect(await channels.subscribers('room:1')).toBe(3);
    await unsubscribe(a, 'room:1');
    expect(await channels.subscribers('room:1')).toBe(2);
    const stream = await TestEventStream.open(`${server(1).httpUrl}/v1/sse?channels=room:1,room:2`, { authorization: `Bearer ${server(1).token(['*'])}` });
    await stream.waitFor(2);
    expect(await channels.list({ prefix: 'room:', limit: 10 })).toEqual({
      channels: [
        { channel: 'room:1', subscribers: 3 },
        { channel: 'room:2', subscribers: 1 },
      ],
      next: null,
    });
    stream.close();
    b.close();
    c.close();
    await expect.poll(() => channels.list({ prefix: 'room:', limit: 10 })).toEqual({ channels: [], next: null });
  });
});

describe('presence re-sync after a bus resume', () => {
  test('members that joined or left while transitions were missed are told as join and leave', async () => {
    const alice = await connect(0, 'alice');
    await subscribe(alice, 'room:1', true);
    const bob = await connect(1, 'bob');
    await subscribe(bob, 'room:1', true);
    const erin = await connect(0, 'erin');
    await subscribe(erin, 'room:1', true);
    await alice.next((m) => m.type === 'join' && m.user === 'bob');
    await alice.next((m) => m.type === 'join' && m.user === 'erin');
    // What a lost pub/sub message looks like: the broker changed, no transition reached client-server 0.
    // (erin's own membership vanishing too, as a stale read would show it: erin must not hear of itself.)
    const members = broker().presence.get('room:1')!;
    for (const [key, m] of members) if (m.user === 'bob' || m.user === 'erin') members.delete(key);
    members.set('gone|1', { replica: 'gone', user: 'carol', info: { late: true } });
    server(0).app.clientRelay.hub.onResume('room:1');
    expect(await alice.next((m) => m.type === 'leave' || m.type === 'join')).toEqual({ type: 'leave', channel: 'room:1', user: 'bob' });
    expect(await alice.next((m) => m.type === 'leave' || m.type === 'join')).toEqual({ type: 'leave', channel: 'room:1', user: 'erin' });
    expect(await alice.next((m) => m.type === 'leave' || m.type === 'join')).toEqual({ type: 'join', channel: 'room:1', user: 'carol', info: { late: true } });
    expect(await erin.next((m) => m.type === 'leave' || m.type === 'join')).toMatchObject({ type: 'leave', user: 'bob' });
    expect(await erin.next((m) => m.type === 'leave' || m.type === 'join')).toMatchObject({ type: 'join', user: 'carol' });
    // The view is the engine's again: a new subscriber's list matches.
    const dave = await connect(0, 'dave');
    erin.close();
    expect((await subscribe(dave, 'room:1', true)).presence).toEqual({
      count: 3,
      members: [
        { user: 'alice', info: {} },
        { user: 'carol', info: { late: true } },
        { user: 'dave', info: {} },
      ],
    });
  });
});
