import { createServer, type Server } from 'node:http';
import PusherServer from 'pusher';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LocalStack } from '../../support/local-stack.js';
import { APP, eventually, pusherClient, pusherServer, startPusherStack, subscribed, type ClientOptions, type PusherClient } from '../../support/pusher-clients.js';

type PusherEvent = { name: string; channel: string; user_id?: string; event?: string; data?: string; socket_id?: string };

let stack: LocalStack;
let receiver: Server;
const received: { valid: boolean; contentType: string | undefined; events: PusherEvent[] }[] = [];
const clients: PusherClient[] = [];
const client = (i: number, options: ClientOptions = {}) => {
  const c = pusherClient(stack.clientUrls[i % 2]!, options);
  clients.push(c);
  return c;
};
/** Every event of every webhook that pusher-http-node's own isValid() accepted. */
const events = () => received.filter((r) => r.valid).flatMap((r) => r.events);
const seen = (match: (e: PusherEvent) => boolean) => (events().some(match) ? true : undefined);

beforeAll(async () => {
  // The app's webhook endpoint, checking each POST exactly as a Node app would: with the pusher SDK.
  const sdk = new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1' });
  receiver = createServer((req, res) => {
    let rawBody = '';
    req.on('data', (c: Buffer) => (rawBody += c.toString()));
    req.on('end', () => {
      const webhook = sdk.webhook({ headers: req.headers, rawBody });
      const valid = webhook.isValid();
      received.push({ valid, contentType: req.headers['content-type'], events: valid ? (webhook.getEvents() as PusherEvent[]) : [] });
      res.writeHead(valid ? 200 : 401).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/pusher/webhooks`;
  stack = await startPusherStack({ appExtra: { webhooks: [{ url }] } });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stack?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe("webhooks in Pusher's format, checked by pusher-http-node's webhook().isValid()", () => {
  test('channel_occupied when the first subscriber anywhere arrives, channel_vacated when the last one leaves', async () => {
    const a = client(0);
    const b = client(1);
    await subscribed(a, 'hooked');
    await subscribed(b, 'hooked');
    await eventually('channel_occupied', () => seen((e) => e.name === 'channel_occupied' && e.channel === 'hooked'));
    a.unsubscribe('hooked');
    b.unsubscribe('hooked');
    await eventually('channel_vacated', () => seen((e) => e.name === 'channel_vacated' && e.channel === 'hooked'));
    // Once each for the deployment, though two client-servers held the channel.
    expect(events().filter((e) => e.channel === 'hooked').map((e) => e.name)).toEqual(['channel_occupied', 'channel_vacated']);
  });

  test('member_added and member_removed once per user, with string user ids', async () => {
    const first = client(0, { user: { user_id: 5 } });
    const second = client(1, { user: { user_id: 5 } });
    await subscribed(first, 'presence-hooked');
    await subscribed(second, 'presence-hooked');
    await eventually('member_added', () => seen((e) => e.name === 'member_added' && e.channel === 'presence-hooked'));
    first.disconnect();
    second.disconnect();
    await eventually('member_removed', () => seen((e) => e.name === 'member_removed' && e.channel === 'presence-hooked'));
    const members = events().filter((e) => e.channel === 'presence-hooked' && e.name.startsWith('member_'));
    expect(members).toEqual([
      { name: 'member_added', channel: 'presence-hooked', user_id: '5' },
      { name: 'member_removed', channel: 'presence-hooked', user_id: '5' },
    ]);
  });

  test('client_event carries the event, its data string, the sender socket_id and, on presence, its user_id', async () => {
    const a = client(0, { user: { user_id: 'ann' } });
    const b = client(1, { user: { user_id: 'bob' } });
    await subscribed(a, 'presence-talk');
    await subscribed(b, 'presence-talk');
    a.channel('presence-talk')!.trigger('client-typing', { on: true });
    const event = await eventually('client_event', () => events().find((e) => e.name === 'client_event'));
    expect(event).toEqual({ name: 'client_event', channel: 'presence-talk', event: 'client-typing', data: '{"on":true}', socket_id: a.connection.socket_id, user_id: 'ann' });
  });

  test('cache_miss when a cache channel is subscribed with nothing cached; events triggered through the API make none', async () => {
    const a = client(1);
    await subscribed(a, 'cache-hooked');
    await pusherServer(stack).trigger('cache-hooked', 'x', {});
    await eventually('cache_miss', () => seen((e) => e.name === 'cache_miss' && e.channel === 'cache-hooked'));
    expect(events().filter((e) => e.name === 'cache_miss')).toEqual([{ name: 'cache_miss', channel: 'cache-hooked' }]);
  });

  test('every webhook was sent with Content-Type: application/json exactly and validated', () => {
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((r) => r.valid && r.contentType === 'application/json')).toBe(true);
  });
});
