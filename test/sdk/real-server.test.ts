import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, connectSse, type RelayEvent, type StateChange, type SubscribedInfo } from '../../sdk/src/node.js';
import { RetryingPublisher, signSubscriberToken, startLocalStack, type Stack } from './stack.js';

// Real processes (node dist/...): run `npm run build` first; `npm test` does.
let stack: Stack;
beforeAll(async () => {
  stack = await startLocalStack({ persistence: 'aof' });
});
afterAll(async () => {
  await stack?.stop();
});

/** Bounds the load: enough events on each side of the restart to expose a gap or a duplicate. */
const EVENTS_BEFORE = 20;
const EVENTS_DURING = 30;
const EVENTS_AFTER = 20;

/** `context` says what the client went through, so that a timeout can be diagnosed from the report alone. */
function waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000, context: () => unknown = () => ''): Promise<void> {
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

test('the SDK reconnects to a restarted client-server and resumes with every event once, in order', async () => {
  const channel = `sdk-restart-${Date.now()}`;
  const client = connect(stack.clientUrls[0]!, {
    getToken: () => signSubscriberToken(stack.jwtSecret, { channels: ['sdk-*'], ttlSeconds: 600 }),
    backoff: { baseMs: 50, maxMs: 500 },
  });
  const received: string[] = [];
  const subscribed: SubscribedInfo[] = [];
  const states: StateChange['state'][] = [];
  const changes: StateChange[] = [];
  client.on('state', (s) => {
    states.push(s.state);
    changes.push(s);
  });
  const context = () => ({ changes: changes.slice(-8), subscribed, received: received.length });
  client.subscribe(channel, (e) => received.push(e.id), { onSubscribed: (info) => subscribed.push(info) });
  try {
    await waitFor(() => subscribed.length === 1, 'the first subscribed', 20_000, context);
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, channel);
    for (let i = 0; i < EVENTS_BEFORE; i++) await publisher.publish({ i });
    await waitFor(() => received.length === EVENTS_BEFORE, 'the events before the restart', 20_000, context);

    await stack.killClient(0);
    // Published while the SDK has no server at all: only the resume can deliver these.
    for (let i = 0; i < EVENTS_DURING; i++) await publisher.publish({ i: EVENTS_BEFORE + i });
    await stack.startClient(0);
    await waitFor(() => subscribed.length === 2, 'the resumed subscription', 20_000, context);
    for (let i = 0; i < EVENTS_AFTER; i++) await publisher.publish({ i: EVENTS_BEFORE + EVENTS_DURING + i });
    await waitFor(() => received.length >= publisher.acknowledged.length, 'every acknowledged event', 20_000, context);

    expect(received).toEqual(publisher.acknowledged);
    expect(subscribed[1]).toMatchObject({ channel, recovered: true, resumed: true, since: publisher.acknowledged[EVENTS_BEFORE - 1] });
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('open');
  } finally {
    client.close();
  }
});

test('a token that does not allow the channel is reported as forbidden and the subscription dropped', async () => {
  const client = connect(stack.clientUrls[1]!, { token: signSubscriberToken(stack.jwtSecret, { channels: ['other'] }) });
  try {
    const code = await new Promise<string>((resolve) => client.subscribe('sdk-secret', () => {}, { onError: (e) => resolve(e.code) }));
    expect(code).toBe('forbidden');
    expect(client.positions).toEqual({});
  } finally {
    client.close();
  }
});

test('a rejected token at connect stops the client with unauthorized instead of retrying forever', async () => {
  const client = connect(stack.clientUrls[1]!, { token: 'not-a-jwt' });
  try {
    const change = await new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    expect(change.error?.code).toBe('unauthorized');
  } finally {
    client.close();
  }
});

test('an expired token is refused with the server reason, token expired', async () => {
  const expired = signSubscriberToken(stack.jwtSecret, { channels: ['sdk-*'], ttlSeconds: 60, nowMs: Date.now() - 120_000 });
  const client = connect(stack.clientUrls[1]!, { token: expired });
  try {
    const change = await new Promise<StateChange>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s)));
    expect(change.error).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(change.error?.message).toMatch(/token expired/);
  } finally {
    client.close();
  }
});

test('the SSE client (fetch streaming in Node) receives the events of a channel from the real client-server', async () => {
  const channel = `sdk-sse-${Date.now()}`;
  const stream = connectSse(stack.clientUrls[1]!, { channels: [channel], token: signSubscriberToken(stack.jwtSecret, { channels: ['sdk-*'], ttlSeconds: 600 }) });
  const received: RelayEvent[] = [];
  stream.on('event', (e) => received.push(e));
  try {
    await new Promise((resolve) => stream.on('subscribed', resolve));
    const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, channel);
    for (let i = 0; i < 3; i++) await publisher.publish({ i });
    await waitFor(() => received.length === 3, 'three events over SSE');
    expect(received.map((e) => e.id)).toEqual(publisher.acknowledged);
    expect(stream.cursor).toBe(publisher.acknowledged[2]);
  } finally {
    stream.close();
  }
});
