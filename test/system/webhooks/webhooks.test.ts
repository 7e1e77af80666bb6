import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../../tools/redis-server.js';
import { E2E_PUBLISHER_KEY } from '../../support/local-stack.js';
import { eventually, freshChannel } from '../../support/recorder.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { serviceEnv, startDriver, startService, type Proc } from '../../support/webhook-processes.js';

/*
 * Webhooks through real processes (`npm run build` first): a redis-server,
 * source-servers and client-servers from dist/, the webhook driver standing
 * in for a client-server's client publishes, and a real HTTP receiver that
 * checks every signature. The dispatchers run their real clocks (first retry
 * about 5 s later, then 10 s, ...), so these tests take tens of seconds.
 */

const SECRET = 'system-webhook-secret-0123456789-abcdef';
const SLOW = 90_000;

let redis: RedisServerHandle;
const procs: Proc[] = [];
const receivers: WebhookReceiver[] = [];

beforeEach(async () => {
  redis = await startRedisServer({ appendonly: true });
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await redis.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(SECRET);
  receivers.push(r);
  return r;
}
const env = (urls: string[], extra: Record<string, string> = {}) => serviceEnv(redis.url, { WEBHOOK_URLS: urls.join(','), WEBHOOK_SECRET: SECRET, ...extra });
const service = async (script: 'source-server' | 'client-server', e: Record<string, string>) => {
  const s = await startService(script, e);
  procs.push(s);
  return s;
};
const driver = async (e: Record<string, string>) => {
  const d = await startDriver(e);
  procs.push(d);
  return d;
};

describe('webhooks across real processes', () => {
  test('a client publish whose process is SIGKILLed right after it is stored is delivered by a client-server', { timeout: SLOW }, async () => {
    const r = await receiver();
    await service('client-server', env([r.url]));
    const d = await driver(env([r.url]));
    const channel = freshChannel('killed');
    const id = await d.publish(channel, { n: 1 }, 'alice');
    await d.stop('SIGKILL');
    await eventually(() => r.events().length === 1, 'the webhook arrived', 30_000);
    expect(r.events()).toEqual([{ kind: 'client.publish', channel, time: expect.any(Number), id, publisher: 'alice', data: { n: 1 } }]);
    expect(r.received.every((x) => x.signed && x.contentType === 'application/json')).toBe(true);
  });

  test('a webhook whose dispatcher is SIGKILLed mid-retry is sent again with the identical body by a replica started later', { timeout: SLOW }, async () => {
    const r = await receiver();
    r.answer = () => 500;
    // The driver is the only process, so its own dispatcher makes the first attempt.
    const d = await driver(env([r.url]));
    const channel = freshChannel('mid-retry');
    const id = await d.publish(channel, 'x', 'bob');
    await eventually(() => r.received.length === 1, 'the first attempt failed', 30_000);
    await d.stop('SIGKILL');
    r.answer = () => 200;
    await service('client-server', env([r.url]));
    await eventually(() => r.accepted().length === 1, 'the retry was accepted', 60_000);
    const [first, accepted] = [r.received[0]!, r.accepted()[0]!];
    expect(accepted.raw).toBe(first.raw);
    expect(accepted.id).toBe(first.id);
    expect(accepted.t).toBeGreaterThan(first.t);
    expect(r.events()).toEqual([{ kind: 'client.publish', channel, time: expect.any(Number), id, publisher: 'bob', data: 'x' }]);
  });

  test('with a source-server and two client-servers all dispatching, each client publish is reported once, in order per channel, and source publishes not at all', { timeout: SLOW }, async () => {
    const r = await receiver();
    const source = await service('source-server', env([r.url]));
    await Promise.all([service('client-server', env([r.url])), service('client-server', env([r.url]))]);
    const drivers = await Promise.all([driver(env([r.url])), driver(env([r.url]))]);
    const channels = [freshChannel('a'), freshChannel('b'), freshChannel('c')];
    const sent = new Map(channels.map((c) => [c, [] as string[]]));
    for (let i = 0; i < 30; i++) {
      const channel = channels[i % 3]!;
      // One channel's events alternate between the two publishing processes; ids still order them.
      sent.get(channel)!.push(await drivers[i % 2]!.publish(channel, i, `user-${i % 2}`));
      if (i % 5 === 0) {
        const answer = await fetch(`${source.url}/v1/channels/${channel}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${E2E_PUBLISHER_KEY}`, 'content-type': 'application/json' },
          body: '{"from":"source"}',
        });
        expect(answer.status).toBe(200);
      }
    }
    await eventually(() => r.events().length >= 30, 'thirty webhooks events arrived', 30_000);
    await new Promise((res) => setTimeout(res, 1000));
    expect(r.events().length).toBe(30);
    expect(new Set(r.received.map((x) => x.id)).size).toBe(r.received.length);
    for (const channel of channels) expect(r.events().filter((e) => e.channel === channel).map((e) => e.id)).toEqual(sent.get(channel));
  });

  test('a webhook answered 500 is retried with the same id and body and a new t, then accepted; another URL meanwhile gets everything in order', { timeout: SLOW }, async () => {
    const [flaky, steady] = [await receiver(), await receiver()];
    flaky.answer = (x) => (x.n <= 2 ? 500 : 200);
    await service('client-server', env([flaky.url, steady.url]));
    const d = await driver(env([flaky.url, steady.url]));
    const channel = freshChannel('flaky');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await d.publish(channel, i, 'carol'));
    await eventually(() => steady.events().length === 5, 'the steady URL got all five', 30_000);
    expect(flaky.accepted()).toEqual([]);
    await eventually(() => flaky.events().length === 5, 'the flaky URL got all five after its retries', 60_000);
    const [a, b, c] = flaky.received;
    expect([a!.status, b!.status, c!.status]).toEqual([500, 500, 200]);
    expect(new Set([a!.raw, b!.raw, c!.raw]).size).toBe(1);
    expect(a!.t < b!.t && b!.t < c!.t).toBe(true);
    for (const r of [flaky, steady]) expect(r.events().map((e) => e.id)).toEqual(ids);
    expect(flaky.received.every((x) => x.signed)).toBe(true);
  });

  test('a webhook still failing after WEBHOOK_GIVE_UP_SECONDS is given up, logged as an error and counted, and the next one goes on', { timeout: SLOW }, async () => {
    const r = await receiver();
    r.answer = (x) => (x.events.some((e) => e.data === 'doomed') ? 500 : 200);
    const e = env([r.url], { WEBHOOK_GIVE_UP_SECONDS: '6' });
    const clients = [await service('client-server', e), await service('client-server', e)];
    const channel = freshChannel('give-up');
    const publisher = await driver(e);
    await publisher.publish(channel, 'doomed', 'dave');
    // The publishing process goes away: the client-servers own the retries.
    await publisher.stop('SIGKILL');
    const failures = async () => (await Promise.all(clients.map((c) => c.metric('eventrelay_webhook_failures_total')))).reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 60_000;
    while ((await failures()) < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    expect(await failures()).toBe(1);
    expect(clients.flatMap((c) => c.logs).some((l) => l.level === 50 && String(l.msg).includes('given up'))).toBe(true);
    const attempts = r.received.filter((x) => x.events.some((ev) => ev.data === 'doomed'));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((x) => x.raw)).size).toBe(1);
    const next = await driver(e);
    const id = await next.publish(channel, 'fine', 'dave');
    await eventually(() => r.events().some((ev) => ev.id === id), 'the next transition was delivered', 30_000);
    expect(r.events().map((ev) => ev.data)).toEqual(['fine']);
  });
});
