import { expect, test } from 'vitest';
import { transitionJson, type Transition } from '../../services/engine/outbox.js';
import type { OutboxStore } from '../../services/engine/webhooks/outbox-store.js';
import { eventually, freshChannel } from '../support/recorder.js';
import { join, occupied, sleep, until, users, type Harness } from './webhooks-harness.js';

/** What is delivered, once, and what is left behind (part of webhooksContract). */
export function deliveryCases(h: Harness): void {
  const { world, receiver, dispatcher } = h;
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

  test('a dispatcher whose lease ran out can no longer move the delivery state', async () => {
    const w = await world();
    const [a, b] = [w.store(), w.store()];
    const channel = freshChannel();
    await w.append(occupied(channel));
    expect(await a.acquire(channel, 'a', 1000)).toBe(0);
    expect(await b.acquire(channel, 'b', 1000)).toBeGreaterThan(0);
    const batch = await a.next(channel, 'a', 'r', 'batch-1', Date.now(), { maxEvents: 10, maxBytes: 1 << 20 });
    expect(batch).toMatchObject({ id: 'batch-1', attempts: 0 });
    await sleep(1100);
    expect(await b.acquire(channel, 'b', 5000)).toBe(0);
    expect(await a.settle(channel, 'a', 'r', 'batch-1', ['r'])).toBe('lost');
    expect(await a.reschedule(channel, 'a', 'r', 'batch-1', 1, Date.now())).toBe('lost');
    expect(await b.next(channel, 'b', 'r', 'batch-2', Date.now(), { maxEvents: 10, maxBytes: 1 << 20 })).toMatchObject({ id: 'batch-1' });
  });
}
