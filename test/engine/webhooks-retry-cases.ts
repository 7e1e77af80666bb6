import { expect, test } from 'vitest';
import { eventually, freshChannel } from '../support/recorder.js';
import { join, occupied, sleep, until, users, type Harness } from './webhooks-harness.js';

/** Failures: retries, their order, independent URLs, timeouts, giving up, handing over (part of webhooksContract). */
export function retryCases(h: Harness): void {
  const { world, receiver, dispatcher } = h;
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

}
