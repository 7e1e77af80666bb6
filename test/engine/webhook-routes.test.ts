import PusherServer from 'pusher';
import { describe, expect, test } from 'vitest';
import { transitionJson } from '../../services/engine/outbox.js';
import { WebhookRoutes, webhookChannels } from '../../services/engine/webhooks/routes.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { toNativeChannel } from '../../services/protocol/pusher/channel-name.js';

const SECRET = 'webhook-secret-webhook-secret-0123456789';
const apps = JSON.stringify({
  apps: [
    { id: '1', key: 'k1', secret: 's1', webhooks: [{ url: 'http://hooks/all' }, { url: 'http://hooks/members', events: ['member_added'] }] },
    { id: '2', key: 'k2', secret: 's2' },
  ],
});
const config = (env: Record<string, string>) => loadConfig({ PUSHER_APPS_FILE: '/apps.json', ...env }, { readFile: () => apps });
const batch = (channel: string, ...kinds: ('channel.occupied' | 'presence.join' | 'cache.miss')[]) => ({
  id: 'w1',
  time: 1700000000000,
  events: kinds.map((kind) => (kind === 'presence.join' ? transitionJson({ kind, channel, time: 1, user: 'u' }) : transitionJson({ kind, channel, time: 1 }))),
});

describe('webhook routes', () => {
  test("a Pusher app's channels go to its URLs in Pusher's format; other apps' and native channels do not", () => {
    const routes = new WebhookRoutes(config({}));
    const one = toNativeChannel('1', 'presence-room');
    expect(routes.wants(one)).toBe(true);
    expect(routes.wants(toNativeChannel('2', 'presence-room'))).toBe(false);
    expect(routes.wants('news')).toBe(false);
    expect(routes.receiversFor('news')).toEqual([]);
    const [all, members] = routes.receiversFor(one);
    const request = all!.request(batch(one, 'channel.occupied', 'presence.join'), Date.now())!;
    const sdk = new PusherServer({ appId: '1', key: 'k1', secret: 's1', host: 'x' });
    const webhook = sdk.webhook({ headers: request.headers, rawBody: request.body });
    expect(webhook.isValid()).toBe(true);
    expect(webhook.getEvents()).toEqual([
      { name: 'channel_occupied', channel: 'presence-room' },
      { name: 'member_added', channel: 'presence-room', user_id: 'u' },
    ]);
    // The kinds filter of the second URL: a batch with nothing for it is passed without a POST.
    expect(members!.request(batch(one, 'channel.occupied'), Date.now())).toBeUndefined();
    expect(JSON.parse(members!.request(batch(one, 'channel.occupied', 'presence.join'), Date.now())!.body).events).toHaveLength(1);
  });

  test('WEBHOOK_URLS get every channel in the native format, never a cache.miss', () => {
    const routes = new WebhookRoutes(config({ WEBHOOK_URLS: 'http://native/hook', WEBHOOK_SECRET: SECRET }));
    expect(routes.wants('news')).toBe(true);
    const channel = toNativeChannel('1', 'cache-x');
    const native = routes.receiversFor(channel)[0]!;
    expect(routes.receiversFor(channel)).toHaveLength(3);
    expect(native.request(batch(channel, 'cache.miss'), Date.now())).toBeUndefined();
    const body = JSON.parse(native.request(batch(channel, 'channel.occupied', 'cache.miss'), Date.now())!.body) as { events: { kind: string }[] };
    expect(body.events.map((e) => e.kind)).toEqual(['channel.occupied']);
  });

  test('the writers record transitions exactly for the channels some receiver wants', () => {
    const wants = webhookChannels(config({}));
    expect(wants(toNativeChannel('1', 'x'))).toBe(true);
    expect(wants(toNativeChannel('2', 'x'))).toBe(false);
    expect(wants('pusher:10:x')).toBe(false);
    expect(webhookChannels({ webhookUrls: ['http://h'] })('anything')).toBe(true);
    expect(webhookChannels({})('anything')).toBe(false);
  });
});
