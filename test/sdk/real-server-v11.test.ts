import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import {
  connect,
  connectSse,
  EventRelayError,
  wsSocketFactory,
  type EventRelayClient,
  type PresenceChange,
  type RelayEvent,
  type StateChange,
  type WsWebSocketClass,
} from '../../sdk/src/node.js';
import { RetryingPublisher, signSubscriberToken, startLocalStack, type LocalStack } from './stack.js';

/**
 * The SDK's v1.1 API (publish, presence, multi-channel SSE, operator
 * disconnect) against real processes: a redis-server, a source-server and
 * two client-servers (`node dist/...`; run `npm run build` first). What the
 * fake-socket tests assume of the server is checked here against the server.
 */
/** Small, so that a payload_too_large publish still fits in a frame (MAX_FRAME_BYTES = this + 16 KiB). */
const MAX_EVENT_BYTES = 1024;
/** Fast retries, so that a client that wrongly reconnects does so within the test. */
const BACKOFF = { baseMs: 20, maxMs: 100 };

let stack: LocalStack;
const open: { close(): void }[] = [];
beforeAll(async () => {
  stack = await startLocalStack({ persistence: 'none', env: { MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) } });
});
afterAll(async () => {
  for (const c of open.splice(0)) c.close();
  await stack?.stop();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;

function token(sub: string, extra: { publish?: string[]; presence?: string[]; info?: Record<string, unknown> } = {}): string {
  return signSubscriberToken(stack.jwtSecret, { channels: ['v11-*'], sub, ttlSeconds: 600, ...extra });
}

function client(index: number, tokenText: string): EventRelayClient {
  const c = connect(stack.clientUrls[index]!, { token: tokenText, backoff: BACKOFF });
  open.push(c);
  return c;
}

function waitFor(predicate: () => boolean, what: string, context: () => unknown = () => '', timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what} ${JSON.stringify(context())}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** Subscribes and resolves once the server said `subscribed`. */
function subscribed(c: EventRelayClient, channel: string, onEvent: (e: RelayEvent) => void = () => {}, options: Parameters<EventRelayClient['subscribe']>[2] = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    c.subscribe(channel, onEvent, { ...options, onSubscribed: () => resolve(), onError: (e) => reject(new Error(`${e.code}: ${e.message}`)) });
  });
}

async function serverApi<T>(path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${stack.sourceUrl}${path}`, { method, headers: { authorization: `Bearer ${stack.publisherKey}` } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

describe('publish over the WebSocket', () => {
  test('resolves with the stored id; subscribers on another client-server get it with publisher, and history holds it', async () => {
    const channel = unique('v11-pub');
    const reader = client(1, token('reader'));
    const received: RelayEvent[] = [];
    await subscribed(reader, channel, (e) => received.push(e));
    const writer = client(0, token('writer', { publish: ['v11-pub-*'] }));

    const published = await writer.publish(channel, { text: 'hi', big: 12345678901234567890n.toString() });
    expect(published).toEqual({ channel, id: expect.stringMatching(/^\d+-\d+$/), ref: expect.any(String) });
    await waitFor(() => received.length === 1, 'the published event');
    expect(received[0]).toEqual({ channel, id: published.id, data: { text: 'hi', big: '12345678901234567890' }, ts: expect.any(Number), publisher: 'writer' });
    const history = await serverApi<{ events: RelayEvent[] }>(`/v1/channels/${channel}/events`);
    expect(history.events.map((e) => [e.id, e.publisher])).toEqual([[published.id, 'writer']]);
  });

  test('the same idempotency key twice stores one event: both resolve with its id', async () => {
    const channel = unique('v11-pub');
    const writer = client(0, token('writer', { publish: ['v11-pub-*'] }));
    const first = await writer.publish(channel, { n: 1 }, { idempotencyKey: 'order-77' });
    const again = await writer.publish(channel, { n: 1 }, { idempotencyKey: 'order-77' });
    expect(again.id).toBe(first.id);
    expect((await serverApi<{ events: unknown[] }>(`/v1/channels/${channel}/events`)).events).toHaveLength(1);
  });

  test('a refusal rejects with the server code (forbidden, payload_too_large) and the connection goes on publishing', async () => {
    const writer = client(0, token('writer', { publish: ['v11-pub-*'] }));
    const states: StateChange['state'][] = [];
    writer.on('state', (s) => states.push(s.state));
    await expect(writer.publish(unique('v11-other'), {})).rejects.toMatchObject({ name: 'EventRelayError', code: 'forbidden' });
    await expect(writer.publish(unique('v11-pub'), 'x'.repeat(MAX_EVENT_BYTES + 1))).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(await writer.publish(unique('v11-pub'), 'fits')).toMatchObject({ id: expect.any(String) });
    expect(states).toEqual(['open']);
  });

  test('a bad channel name is refused before anything is sent, with invalid_channel', async () => {
    const writer = client(0, token('writer', { publish: ['*'] }));
    const refusal = await writer.publish('not a channel', {}).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(EventRelayError);
    expect(refusal).toMatchObject({ code: 'invalid_channel' });
  });
});

describe('presence', () => {
  test('members are listed at subscribe, and a user on another client-server joins and leaves', async () => {
    const channel = unique('v11-room');
    const alice = client(0, token('alice', { presence: ['v11-room-*'], info: { name: 'Alice' } }));
    const changes: PresenceChange[] = [];
    await subscribed(alice, channel, () => {}, { presence: true, onPresence: (c) => changes.push(c) });
    expect(alice.presence(channel)).toEqual({ count: 1, members: [{ user: 'alice', info: { name: 'Alice' } }], truncated: false });

    const bob = connect(stack.clientUrls[1]!, { token: token('bob', { presence: ['v11-room-*'], info: { name: 'Bob' } }), backoff: BACKOFF });
    open.push(bob);
    await subscribed(bob, channel, () => {}, { presence: true });
    await waitFor(() => changes.some((c) => c.type === 'join'), "bob's join", () => changes);
    expect(changes.find((c) => c.type === 'join')).toMatchObject({ channel, user: 'bob', info: { name: 'Bob' } });
    expect(alice.presence(channel)?.members.map((m) => m.user).sort()).toEqual(['alice', 'bob']);
    const listed = await serverApi<{ count: number; members: { user: string; connections: number }[] }>(`/v1/channels/${channel}/presence`);
    expect(listed.count).toBe(2);
    expect(listed.members.map((m) => [m.user, m.connections]).sort()).toEqual([['alice', 1], ['bob', 1]]);

    bob.close();
    await waitFor(() => changes.some((c) => c.type === 'leave'), "bob's leave", () => changes);
    expect(changes.find((c) => c.type === 'leave')).toMatchObject({ channel, user: 'bob' });
    expect(alice.presence(channel)).toEqual({ count: 1, members: [{ user: 'alice', info: { name: 'Alice' } }], truncated: false });
    // Its own user causes no join or leave to itself.
    expect(changes.filter((c) => c.user === 'alice')).toEqual([]);
  });

  test('presence without a presence claim is refused as forbidden and nothing is subscribed', async () => {
    const carol = client(0, token('carol'));
    const code = await new Promise<string>((resolve) => carol.subscribe(unique('v11-room'), () => {}, { presence: true, onError: (e) => resolve(e.code) }));
    expect(code).toBe('forbidden');
    expect(carol.positions).toEqual({});
  });
});

describe('several channels on one SSE stream (Node, fetch streaming)', () => {
  test('events of every channel arrive, and a new stream resumed after the saved cursor gets exactly the missed ones', async () => {
    const [a, b] = [unique('v11-sse-a'), unique('v11-sse-b')];
    const publishers = [new RetryingPublisher(stack.sourceUrl, stack.publisherKey, a), new RetryingPublisher(stack.sourceUrl, stack.publisherKey, b)];
    const stream = connectSse(stack.clientUrls[0]!, { channels: [a, b], token: token('sse') });
    open.push(stream);
    const before: RelayEvent[] = [];
    const subscribedTo: string[] = [];
    stream.on('subscribed', (info) => subscribedTo.push(info.channel));
    stream.on('event', (e) => before.push(e));
    await waitFor(() => subscribedTo.length === 2, 'both subscribed', () => subscribedTo);
    expect(subscribedTo.sort()).toEqual([a, b].sort());
    for (let i = 0; i < 3; i++) for (const p of publishers) await p.publish({ i });
    await waitFor(() => before.length === 6, 'six events', () => before.length);
    const cursor = stream.cursor!;
    // The stream's cursor is its own, not an event id (the data carries those).
    expect(before.map((e) => e.id)).not.toContain(cursor);
    stream.close();

    for (let i = 3; i < 6; i++) for (const p of publishers) await p.publish({ i });
    const resumed = connectSse(stack.clientUrls[1]!, { channels: [a, b], token: token('sse'), lastEventId: cursor });
    open.push(resumed);
    const after: RelayEvent[] = [];
    const recovered: boolean[] = [];
    resumed.on('subscribed', (info) => recovered.push(info.recovered));
    resumed.on('event', (e) => after.push(e));
    await waitFor(() => after.length === 6, 'the six missed events', () => after.length);
    const ids = (channel: string, events: RelayEvent[]) => events.filter((e) => e.channel === channel).map((e) => e.id);
    expect(ids(a, [...before, ...after])).toEqual(publishers[0]!.acknowledged);
    expect(ids(b, [...before, ...after])).toEqual(publishers[1]!.acknowledged);
    expect(recovered).toEqual([true, true]);
  });
});

describe('an operator disconnect (POST /v1/users/{user}/disconnect)', () => {
  test('closes the WebSocket with 4003 and the SDK stops there, without reconnecting', async () => {
    const dave = client(1, token('dave'));
    const states: StateChange[] = [];
    dave.on('state', (s) => states.push(s));
    await subscribed(dave, unique('v11-op'));
    await serverApi('/v1/users/dave/disconnect', 'POST');
    await waitFor(() => dave.state === 'closed', 'the 4003 close', () => states);
    expect(states.at(-1)).toMatchObject({ state: 'closed', closeCode: 4003, error: { code: 'disconnected', closeCode: 4003 } });
    // Many times the backoff's longest delay: a client that reconnects would have done so by now.
    await new Promise((r) => setTimeout(r, BACKOFF.maxMs * 10));
    expect(states.map((s) => s.state)).toEqual(['open', 'closed']);
    await expect(dave.publish(unique('v11-op'), {})).rejects.toMatchObject({ code: 'closed' });
  });

  test('ends an SSE stream with event: disconnected and the stream stops too', async () => {
    const stream = connectSse(stack.clientUrls[0]!, { channels: [unique('v11-op')], token: token('erin'), backoff: BACKOFF });
    open.push(stream);
    const states: StateChange[] = [];
    stream.on('state', (s) => states.push(s));
    await new Promise((resolve) => stream.on('subscribed', resolve));
    await serverApi('/v1/users/erin/disconnect', 'POST');
    await waitFor(() => stream.state === 'closed', 'the disconnected event', () => states);
    expect(states.at(-1)).toMatchObject({ state: 'closed', error: { code: 'disconnected' } });
    await new Promise((r) => setTimeout(r, BACKOFF.maxMs * 10));
    expect(states.map((s) => s.state)).toEqual(['open', 'closed']);
  });
});

describe('a page whose token is refused (the server accepts the upgrade and closes with 4001)', () => {
  /** `ws` sending an Origin header, as every browser does: the client-server then refuses with a close, not a 401. */
  const AsPage = class extends WebSocket {
    constructor(url: string, options: { handshakeTimeout?: number } = {}) {
      super(url, { ...options, headers: { origin: 'http://localhost:8081' } });
    }
  } as unknown as WsWebSocketClass;

  test('stops with unauthorized and the server reason after one attempt, although getToken could fetch another', async () => {
    let issued = 0;
    const page = connect(stack.clientUrls[0]!, {
      getToken: () => (++issued, signSubscriberToken('not-the-secret-not-the-secret-not-the-secret', { channels: ['*'] })),
      socketFactory: wsSocketFactory(AsPage),
      backoff: BACKOFF,
    });
    open.push(page);
    const closed = await new Promise<StateChange>((resolve) => page.on('state', (s) => s.state === 'closed' && resolve(s)));
    expect(closed).toMatchObject({ closeCode: 4001, error: { code: 'unauthorized', message: expect.stringMatching(/^The subscriber token was rejected: /) } });
    expect(closed.status).toBeUndefined();
    expect(issued).toBe(1);
  });
});
