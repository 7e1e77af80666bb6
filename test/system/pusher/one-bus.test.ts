import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import type { LocalStack } from '../../support/local-stack.js';
import { TestEventStream } from '../../support/sse-client.js';
import { TestSocket } from '../../support/ws-client.js';
import { pusherClient, pusherServer, startPusherStack, subscribed, waitFor, type PusherClient } from '../../support/pusher-clients.js';

let stack: LocalStack;
const clients: PusherClient[] = [];

beforeAll(async () => {
  stack = await startPusherStack();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stack?.stop();
});

const wsUrl = (i: number) => `${stack.clientUrls[i]!.replace('http', 'ws')}/v1/ws`;
const token = () => signSubscriberToken(stack.jwtSecret, { channels: ['pusher:1:*'] });

describe('one bus for both protocols', () => {
  test('an event triggered through the Pusher API is stored and reaches native WebSocket and SSE subscribers of pusher:1:<name>', async () => {
    const ws = await TestSocket.open(wsUrl(0), { token: token() });
    ws.send({ type: 'subscribe', channel: 'pusher:1:private-orders.1' });
    await ws.next((m) => m.type === 'subscribed');
    const sse = await TestEventStream.open(`${stack.clientUrls[1]}/v1/sse/pusher:1:private-orders.1?token=${token()}`);
    await sse.waitFor(1);

    await pusherServer(stack).trigger('private-orders.1', 'shipped', { id: 12345678901234567890n.toString() }, { socket_id: '1.2' });
    const event = await ws.next((m) => m.type === 'event');
    expect(event.channel).toBe('pusher:1:private-orders.1');
    // The Pusher event name and its data string, verbatim; the excluded socket travels with it.
    expect(event.data).toEqual({ event: 'shipped', data: '{"id":"12345678901234567890"}', exclude: '1.2' });
    const [, streamed] = await sse.waitFor(2);
    expect(JSON.parse(streamed!.data)).toMatchObject({ id: event.id, data: event.data });

    // Stored: a native subscriber resuming from before it gets it from history.
    const resumer = await TestSocket.open(wsUrl(1), { token: token() });
    resumer.send({ type: 'subscribe', channel: 'pusher:1:private-orders.1', since: '0-1' });
    expect((await resumer.next((m) => m.type === 'event')).id).toBe(event.id);
    for (const s of [ws, resumer]) s.ws.close();
    sse.close();
  });

  test('an event published natively reaches pusher-js: an {event, data} object as that event, anything else as "message"', async () => {
    const c = pusherClient(stack.clientUrls[1]!);
    clients.push(c);
    await subscribed(c, 'presence-native');
    const structured = waitFor<unknown>(10_000, 'the structured event', (done) => c.channel('presence-native')!.bind('order-created', (d: unknown) => done(d)));
    const plain = waitFor<unknown>(10_000, 'the plain event', (done) => c.channel('presence-native')!.bind('message', (d: unknown) => done(d)));
    const publish = (data: unknown) =>
      fetch(`${stack.sourceUrl}/v1/channels/pusher:1:presence-native/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.publisherKey}` },
        body: JSON.stringify(data),
      });
    expect((await publish({ event: 'order-created', data: { id: 7 } })).status).toBe(200);
    expect((await publish({ temperature: 21.5 })).status).toBe(200);
    expect(await structured).toEqual({ id: 7 });
    expect(await plain).toEqual({ temperature: 21.5 });
  });

  test('native and Pusher subscribers of one channel share one subscription count', async () => {
    const c = pusherClient(stack.clientUrls[0]!);
    clients.push(c);
    await subscribed(c, 'shared-count');
    const ws = await TestSocket.open(wsUrl(0), { token: token() });
    ws.send({ type: 'subscribe', channel: 'pusher:1:shared-count' });
    await ws.next((m) => m.type === 'subscribed');
    const sdk = pusherServer(stack);
    const deadline = Date.now() + 10_000;
    let count = 0;
    while (Date.now() < deadline && count !== 2) {
      const res = await sdk.get({ path: '/channels/shared-count', params: { info: 'subscription_count' } });
      count = ((await res.json()) as { subscription_count: number }).subscription_count;
      if (count !== 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(count).toBe(2);
    ws.ws.close();
  });
});
