import { afterEach, describe, expect, test } from 'vitest';
import { transitionJson, type Transition } from '../../services/engine/outbox.js';
import { WebhookDispatcher, type DispatcherConfig } from '../../services/engine/webhooks/dispatcher.js';
import type { OutboxStore } from '../../services/engine/webhooks/outbox-store.js';
import type { WebhookTiming } from '../../services/engine/webhooks/timing.js';
import { Metrics } from '../../services/runtime/metrics.js';
import { eventually, freshChannel, sinkLogger } from '../support/recorder.js';
import { startWebhookReceiver, type WebhookEvent } from '../support/webhook-receiver.js';

export const WEBHOOK_SECRET = 'webhook-secret-webhook-secret-0123456789';

/**
 * Clocks short enough for tests of the dispatcher itself, long enough that a
 * loaded 2-core machine does not lose leases (which would be a legitimate
 * duplicate, and fail the exactly-once checks).
 */
export const FAST: Partial<WebhookTiming> = {
  pollMs: 20,
  leaseMs: 5000,
  firstRetryMs: 200,
  maxRetryMs: 800,
  requestTimeoutMs: 1000,
  repairMs: 300,
  queueAgeMs: 100,
};

/** One broker with webhooks on, as the contract sees it. */
export interface WebhookWorld {
  /** Appends a transition as this broker's presence/occupancy writers do. */
  append(t: Transition): Promise<void>;
  /** Publishes an event with `publisher` through the bus (a client publish); resolves its id. */
  publishClient(channel: string, data: string, publisher: string): Promise<string>;
  /** Publishes an event without `publisher` (from the source-server). */
  publishSource(channel: string, data: string): Promise<void>;
  /** A new store on this broker: another replica's view when called again. */
  store(): OutboxStore;
  /** The transition JSON texts the channel's outbox holds. */
  outbox(channel: string): Promise<string[]>;
  /** Whether nothing of the channel is left: no outbox, no delivery state, not on the work list. */
  drained(channel: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

export type WorldFactory = () => Promise<WebhookWorld>;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Waits until the async `check` holds; fails with `what` when it never does. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

const occupied = (channel: string): Transition => ({ kind: 'channel.occupied', channel, time: Date.now() });
const join = (channel: string, user: string): Transition => ({ kind: 'presence.join', channel, time: Date.now(), user });

/** Webhook delivery every broker must give (PROTOCOL.md v1.1 Webhooks); run by webhooks-memory.test.ts and webhooks-redis.test.ts. */
export function webhooksContract(name: string, makeWorld: WorldFactory): void {
  describe(`webhooks on ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()!();
    });
    const world = async () => {
      const w = await makeWorld();
      cleanups.push(() => w.cleanup());
      return w;
    };
    const receiver = async () => {
      const r = await startWebhookReceiver(WEBHOOK_SECRET);
      cleanups.push(() => r.close());
      return r;
    };
    const dispatcher = (w: WebhookWorld, urls: string[], extra: Partial<DispatcherConfig> = {}, timing: Partial<WebhookTiming> = {}, store = w.store()) => {
      const { logger, lines } = sinkLogger();
      const metrics = new Metrics('test', { defaultMetrics: false });
      const config: DispatcherConfig = { webhookUrls: urls, webhookSecret: WEBHOOK_SECRET, webhookGiveUpSeconds: 3600, ...extra };
      const d = new WebhookDispatcher({ config, logger, metrics, store, timing: { ...FAST, ...timing } });
      cleanups.push(() => d.close());
      return { dispatcher: d, lines, metrics };
    };
    const users = (events: WebhookEvent[], channel?: string) => events.filter((e) => channel === undefined || e.channel === channel).map((e) => e.user);

    test('every kind arrives once, signed, as application/json, its events the exact JSON of the transitions', async () => {
      const w = await world();
      const r = await receiver();
      const channel = freshChannel('room');
      const t0 = Date.now();
      const transitions: Transition[] = [
        { kind: 'channel.occupied', channel, time: t0 },
        { kind: 'presence.join', channel, time: t0 + 1, user: 'u"1' },
        { kind: 'presence.leave', channel, time: t0 + 2, user: 'u"1' },
        { kind: 'channel.vacated', channel, time: t0 + 3 },
      ];
      for (const t of transitions) await w.append(t);
      const data = '{"n":12345678901234567890,"s":"\\u00e9"}';
      const ts = Date.now();
      const id = await w.publishClient(channel, data, 'alice');
      dispatcher(w, [r.url]);
      await eventually(() => r.events().length === 5, 'five events arrived');
      const expected = [...transitions.map(transitionJson), transitionJson({ kind: 'client.publish', channel, time: 0, id, publisher: 'alice', data })];
      const texts = r.accepted().flatMap((x) => x.raw.slice(x.raw.indexOf('"events":[') + 10, -2).split(/,(?=\{"kind")/));
      expect(texts.map((t) => t.replace(/"time":\d+/, ''))).toEqual(expected.map((t) => t.replace(/"time":\d+/, '')));
      expect(texts.slice(0, 4)).toEqual(expected.slice(0, 4));
      const publish = r.events()[4]!;
      expect(publish.time).toBeGreaterThanOrEqual(ts - 1000);
      for (const x of r.received) {
        expect(x.contentType).toBe('application/json');
        expect(x.signed).toBe(true);
        expect(Math.abs(x.t - x.at / 1000)).toBeLessThanOrEqual(2);
        expect(x.raw).toBe(`{"id":${JSON.stringify(x.id)},"time":${x.time},"events":[${x.raw.slice(x.raw.indexOf('"events":[') + 10, -2)}]}`);
      }
      expect(new Set(r.received.map((x) => x.id)).size).toBe(r.received.length);
      await sleep(300);
      expect(r.received.length).toBe(r.accepted().length);
    });

    test('the publish path appends client.publish for client events only, in the same step as the store', async () => {
      const w = await world();
      const channel = freshChannel('pub');
      await w.publishSource(channel, '{"from":"source"}');
      expect(await w.outbox(channel)).toEqual([]);
      const id = await w.publishClient(channel, '[1,2]', 'bob');
      const [entry] = await w.outbox(channel);
      expect(JSON.parse(entry!)).toEqual({ kind: 'client.publish', channel, time: expect.any(Number), id, publisher: 'bob', data: [1, 2] });
    });

    test('two dispatchers on one broker report each transition once, in order per channel, and leave nothing behind', async () => {
      const w = await world();
      const r = await receiver();
      dispatcher(w, [r.url]);
      dispatcher(w, [r.url]);
      const channels = [freshChannel('a'), freshChannel('b'), freshChannel('c')];
      const expected = new Map(channels.map((c) => [c, [] as string[]]));
      for (let i = 0; i < 60; i++) {
        const channel = channels[i % 3]!;
        await w.append(join(channel, `u${i}`));
        expected.get(channel)!.push(`u${i}`);
        if (i % 7 === 0) await sleep(15);
      }
      await eventually(() => r.events().length >= 60, 'all sixty transitions arrived');
      await sleep(300);
      expect(r.received.length).toBe(new Set(r.received.map((x) => x.id)).size);
      for (const channel of channels) expect(users(r.events(), channel)).toEqual(expected.get(channel));
      for (const channel of channels) await until(() => w.drained(channel), `${channel} was drained`);
    });

    test('a transition appended just as a dispatcher takes a finished channel off the work list is still delivered, without the repair', async () => {
      const w = await world();
      const r = await receiver();
      const store = w.store();
      let late = false;
      // The real store, with a writer landing in the worst moment: after the dispatcher's last read, before its unmark.
      const racing = new Proxy(store, {
        get(target, prop: keyof OutboxStore) {
          if (prop === 'unmark') {
            return async (channel: string) => {
              if (!late) {
                late = true;
                await w.append(join(channel, 'late'));
              }
              return target.unmark(channel);
            };
          }
          const value = target[prop];
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      dispatcher(w, [r.url], {}, { repairMs: 3_600_000 }, racing);
      const channel = freshChannel('race');
      await w.append(join(channel, 'early'));
      await eventually(() => users(r.events()).includes('late'), 'the late transition arrived');
      expect(users(r.events())).toEqual(['early', 'late']);
      await until(() => w.drained(channel), 'the channel was drained');
    });

    test('a webhook answered 500 is retried with the same id and body, each attempt signed anew, until it is accepted', async () => {
      const w = await world();
      const r = await receiver();
      r.answer = (x) => (x.n <= 2 ? 500 : 200);
      const channel = freshChannel();
      await w.append(occupied(channel));
      const { metrics } = dispatcher(w, [r.url]);
      await eventually(() => r.accepted().length === 1, 'the third attempt was accepted');
      expect(r.received.map((x) => x.status)).toEqual([500, 500, 200]);
      expect(new Set(r.received.map((x) => x.raw)).size).toBe(1);
      expect(new Set(r.received.map((x) => x.id)).size).toBe(1);
      expect(r.received.every((x) => x.signed)).toBe(true);
      // The receiver records the 200 before the dispatcher has read it.
      await until(async () => (await metrics.webhookDeliveries.get()).values[0]?.value === 1, 'the delivery was counted');
      expect((await metrics.webhookRetries.get()).values[0]?.value).toBe(2);
    });

    test('retries keep each channel in order: a later transition never overtakes a failing earlier one', async () => {
      const w = await world();
      const r = await receiver();
      // Every third POST fails.
      r.answer = (x) => (x.n % 3 === 0 ? 500 : 200);
      dispatcher(w, [r.url]);
      const channels = [freshChannel('x'), freshChannel('y')];
      for (let i = 0; i < 40; i++) {
        await w.append(join(channels[i % 2]!, `u${i}`));
        await sleep(5);
      }
      await eventually(() => r.events().length >= 40, 'all forty arrived', 20_000);
      for (const [k, channel] of channels.entries()) {
        expect(users(r.events(), channel)).toEqual(Array.from({ length: 20 }, (_, i) => `u${2 * i + k}`));
      }
      expect(r.received.some((x) => x.status === 500)).toBe(true);
    });

    test('each URL is its own stream: one that fails holds up nothing of the other, and later gets everything in order', async () => {
      const w = await world();
      const [down, up] = [await receiver(), await receiver()];
      down.answer = () => 503;
      dispatcher(w, [down.url, up.url]);
      const channel = freshChannel();
      for (let i = 0; i < 10; i++) await w.append(join(channel, `u${i}`));
      await eventually(() => up.events().length === 10, 'the healthy URL got all ten');
      expect(down.accepted()).toEqual([]);
      expect(down.received.length).toBeGreaterThan(0);
      down.answer = () => 200;
      await eventually(() => down.events().length === 10, 'the recovered URL got all ten', 15_000);
      expect(users(down.events())).toEqual(users(up.events()));
      await until(() => w.drained(channel), 'the channel was drained');
    });

    test('a URL that never answers does not hold up another URL', async () => {
      const w = await world();
      const [silent, up] = [await receiver(), await receiver()];
      silent.answer = () => 'hang';
      // Far longer than the wait below: the answering URL must not wait for the silent one's timeout.
      dispatcher(w, [silent.url, up.url], {}, { requestTimeoutMs: 60_000 });
      const channel = freshChannel();
      for (let i = 0; i < 5; i++) await w.append(join(channel, `u${i}`));
      await eventually(() => up.events().length === 5, 'the answering URL got all five');
      expect(silent.received.length).toBeLessThanOrEqual(1);
    });

    test('an attempt not answered within the timeout failed: it is retried with the same body', async () => {
      const w = await world();
      const r = await receiver();
      r.answer = (x) => (x.n === 1 ? 'hang' : 200);
      dispatcher(w, [r.url]);
      const channel = freshChannel();
      await w.append(occupied(channel));
      await eventually(() => r.accepted().length === 1, 'the retry was accepted');
      expect(r.received.map((x) => x.status)).toEqual([0, 200]);
      expect(r.received[1]!.raw).toBe(r.received[0]!.raw);
    });

    test('a webhook still failing after WEBHOOK_GIVE_UP_SECONDS is given up, logged, counted, and the next one goes on', async () => {
      const w = await world();
      const r = await receiver();
      r.answer = (x) => (x.events.some((e) => e.user === 'doomed') ? 500 : 200);
      const channel = freshChannel();
      await w.append(join(channel, 'doomed'));
      const { metrics, lines } = dispatcher(w, [r.url], { webhookGiveUpSeconds: 1 });
      await eventually(() => lines.some((l) => l.msg.includes('given up')), 'the error was logged');
      expect(lines.find((l) => l.msg.includes('given up'))!.level).toBe(50);
      expect((await metrics.webhookFailures.get()).values[0]?.value).toBe(1);
      const attempts = r.received.filter((x) => x.events.some((e) => e.user === 'doomed'));
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      // Retried until the give-up point (the webhook's `time` is when it was made), not less.
      expect(attempts.at(-1)!.at).toBeGreaterThanOrEqual(attempts[0]!.time + 1000);
      await w.append(join(channel, 'next'));
      await eventually(() => users(r.events()).includes('next'), 'the next transition was delivered');
      expect(users(r.events())).toEqual(['next']);
    });

    test('a batch in flight is sent by the next dispatcher with the identical body after the first one stops', async () => {
      const w = await world();
      const r = await receiver();
      r.answer = () => 500;
      const channel = freshChannel();
      for (let i = 0; i < 3; i++) await w.append(join(channel, `u${i}`));
      const first = dispatcher(w, [r.url]);
      await eventually(() => r.received.length >= 1, 'the first dispatcher tried');
      await first.dispatcher.close();
      const tried = r.received.length;
      r.answer = () => 200;
      await w.append(join(channel, 'later'));
      dispatcher(w, [r.url]);
      await eventually(() => users(r.events()).includes('later'), 'everything arrived through the second dispatcher');
      const resent = r.received[tried]!;
      expect(resent.raw).toBe(r.received[0]!.raw);
      expect(users(r.events())).toEqual(['u0', 'u1', 'u2', 'later']);
    });

    test('the queue-age gauge shows the oldest undelivered transition, and 0 once delivered', async () => {
      const w = await world();
      const r = await receiver();
      r.answer = () => 500;
      const channel = freshChannel();
      await w.append({ kind: 'channel.occupied', channel, time: Date.now() });
      const { metrics } = dispatcher(w, [r.url]);
      const age = async () => (await metrics.webhookQueueAge.get()).values[0]?.value ?? 0;
      await until(async () => (await age()) >= 0.3, 'the gauge showed the waiting transition');
      r.answer = () => 200;
      await eventually(() => r.accepted().length === 1, 'delivered');
      await until(async () => (await age()) === 0, 'the gauge went back to 0');
    });

    test('a dispatcher whose lease ran out can no longer move the delivery state', async () => {
      const w = await world();
      const [a, b] = [w.store(), w.store()];
      const channel = freshChannel();
      await w.append(occupied(channel));
      expect(await a.acquire(channel, 'a', 100)).toBe(0);
      expect(await b.acquire(channel, 'b', 100)).toBeGreaterThan(0);
      const batch = await a.next(channel, 'a', 'r', 'batch-1', Date.now(), { maxEvents: 10, maxBytes: 1 << 20 });
      expect(batch).toMatchObject({ id: 'batch-1', attempts: 0 });
      await sleep(150);
      expect(await b.acquire(channel, 'b', 5000)).toBe(0);
      expect(await a.settle(channel, 'a', 'r', 'batch-1', ['r'])).toBe('lost');
      expect(await a.reschedule(channel, 'a', 'r', 'batch-1', 1, Date.now())).toBe('lost');
      expect(await b.next(channel, 'b', 'r', 'batch-2', Date.now(), { maxEvents: 10, maxBytes: 1 << 20 })).toMatchObject({ id: 'batch-1' });
    });
  });
}
