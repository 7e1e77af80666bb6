import { afterEach, describe, expect, test } from 'vitest';
import type { Config } from '../../services/runtime/config/schema.js';
import type { Bus, OutgoingEvent } from '../../services/engine/bus.js';
import { compareEventIds, EVENT_ID_PATTERN } from '../../services/protocol/event-id.js';
import { eventually, freshChannel, recorder } from '../support/recorder.js';

export type BusFactory = (overrides?: Partial<Config>) => Promise<{ bus: Bus; cleanup(): Promise<void> }>;

const ev = (channel: string, data: unknown, idempotencyKey?: string): OutgoingEvent => ({
  channel,
  data: JSON.stringify(data),
  ts: Date.now(),
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

function expectIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) expect(compareEventIds(ids[i - 1]!, ids[i]!), `${ids[i - 1]} < ${ids[i]}`).toBeLessThan(0);
}

/** Behaviour every Bus must have (bus.ts); run by memory-bus.test.ts and redis-bus.test.ts. */
export function busContract(name: string, makeBus: BusFactory): void {
  describe(`${name} keeps the Bus contract`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    const open = async (overrides?: Partial<Config>): Promise<Bus> => {
      const { bus, cleanup } = await makeBus(overrides);
      cleanups.push(cleanup);
      return bus;
    };
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()!();
    });

    test('publish resolves ids of the shape <ms>-<seq>, strictly increasing per channel', async () => {
      const bus = await open();
      const channel = freshChannel();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(...(await bus.publish([ev(channel, i)])).map((r) => r.id));
      for (const id of ids) expect(id).toMatch(EVENT_ID_PATTERN);
      expectIncreasing(ids);
    });

    test('a batch answers in request order, each result naming its channel', async () => {
      const bus = await open();
      const [a, b] = [freshChannel('a'), freshChannel('b')];
      const results = await bus.publish([ev(a, 1), ev(b, 2), ev(a, 3), ev(b, 4)]);
      expect(results.map((r) => r.channel)).toEqual([a, b, a, b]);
      expect(results.every((r) => !r.replayed)).toBe(true);
      expectIncreasing([results[0]!.id, results[2]!.id]);
      expectIncreasing([results[1]!.id, results[3]!.id]);
      const history = await bus.history(a, results[0]!.id);
      expect(history.events.map((e) => e.id)).toEqual([results[2]!.id]);
    });

    test('the same idempotency key on the same channel answers the first id, replayed, and stores nothing new', async () => {
      const bus = await open();
      const channel = freshChannel();
      const [first] = await bus.publish([ev(channel, 'first', 'key-1')]);
      const [again] = await bus.publish([ev(channel, 'second', 'key-1')]);
      expect(first).toEqual({ channel, id: first!.id, replayed: false });
      expect(again).toEqual({ channel, id: first!.id, replayed: true });
      const [after] = await bus.publish([ev(channel, 'third')]);
      const history = await bus.history(channel, first!.id);
      expect(history.events.map((e) => e.id)).toEqual([after!.id]);
    });

    test('the same idempotency key on another channel stores a new event', async () => {
      const bus = await open();
      const [a, b] = [freshChannel('a'), freshChannel('b')];
      const [onA] = await bus.publish([ev(a, 1, 'shared')]);
      const [onB] = await bus.publish([ev(b, 2, 'shared')]);
      expect(onB!.replayed).toBe(false);
      expect(onB!.channel).toBe(b);
      expect(onA!.replayed).toBe(false);
    });

    test('a key repeated inside one batch stores one event, the later result replayed', async () => {
      const bus = await open();
      const channel = freshChannel();
      const before = await bus.publish([ev(channel, 'before')]);
      const results = await bus.publish([ev(channel, 'x', 'dup'), ev(channel, 'y'), ev(channel, 'z', 'dup')]);
      expect(results.map((r) => r.replayed)).toEqual([false, false, true]);
      expect(results[2]!.id).toBe(results[0]!.id);
      const history = await bus.history(channel, before[0]!.id);
      expect(history.events.map((e) => e.id)).toEqual([results[0]!.id, results[1]!.id]);
    });

    test('a subscriber gets every later event once, in order, with the exact data bytes, ts and data intact', async () => {
      const bus = await open();
      const channel = freshChannel();
      const handler = recorder();
      await bus.subscribe(channel, handler);
      const values: unknown[] = [{ a: 1, nested: { list: [1, 'two', null] } }, 'say "hi" \\ ünïcødé ✓ 🚀', null, 42, -1.5e-7, true, [], ''];
      const sent = values.map((v, i) => ({ ...ev(channel, v), ts: 1_700_000_000_000 + i }));
      const results = [...(await bus.publish(sent.slice(0, 3))), ...(await bus.publish(sent.slice(3)))];
      await eventually(() => handler.events.length >= values.length, 'every event arrived');
      expect(handler.ids()).toEqual(results.map((r) => r.id));
      expect(handler.data()).toEqual(values);
      handler.events.forEach((event, i) => {
        expect(event.channel).toBe(channel);
        expect(event.data.equals(Buffer.from(sent[i]!.data))).toBe(true);
        expect(event.ts).toBe(sent[i]!.ts);
        expect(bus.ids.compare(event.position, bus.ids.parse(event.id))).toBe(0);
      });
      expect(handler.gaps).toEqual([]);
    });

    test('a subscriber hears nothing of other channels', async () => {
      const bus = await open();
      const [mine, other] = [freshChannel('mine'), freshChannel('other')];
      const handler = recorder();
      await bus.subscribe(mine, handler);
      await bus.publish([ev(other, 'not for you'), ev(mine, 'for you')]);
      await eventually(() => handler.events.length >= 1, 'the event arrived');
      expect(handler.data()).toEqual(['for you']);
    });

    test('unsubscribe stops delivery', async () => {
      const bus = await open();
      const [channel, marker] = [freshChannel('left'), freshChannel('marker')];
      const handler = recorder();
      const markers = recorder();
      await bus.subscribe(channel, handler);
      await bus.subscribe(marker, markers);
      await bus.publish([ev(channel, 'before')]);
      await eventually(() => handler.events.length === 1, 'the first event arrived');
      await bus.unsubscribe(channel);
      await bus.publish([ev(channel, 'after')]);
      // Delivery is ordered on the bus: once the later marker arrived, "after" would have too.
      await bus.publish([ev(marker, 'marker')]);
      await eventually(() => markers.events.length === 1, 'the marker arrived');
      expect(handler.data()).toEqual(['before']);
    });

    test('history since an existing id is recovered and holds exactly the later events', async () => {
      const bus = await open();
      const channel = freshChannel();
      const ids = (await bus.publish([1, 2, 3, 4, 5].map((n) => ev(channel, n)))).map((r) => r.id);
      const history = await bus.history(channel, ids[1]!);
      expect(history.recovered).toBe(true);
      expect(history.events.map((e) => e.id)).toEqual(ids.slice(2));
      expect(history.events.map((e) => JSON.parse(e.data.toString()) as unknown)).toEqual([3, 4, 5]);
    });

    test('history since the newest id is recovered and empty', async () => {
      const bus = await open();
      const channel = freshChannel();
      const ids = (await bus.publish([ev(channel, 1), ev(channel, 2)])).map((r) => r.id);
      expect(await bus.history(channel, ids[1]!)).toEqual({ recovered: true, events: [] });
    });

    test('history since an id never issued is not recovered', async () => {
      const bus = await open();
      const channel = freshChannel();
      const ids = (await bus.publish([ev(channel, 1), ev(channel, 2)])).map((r) => r.id);
      const between = await bus.history(channel, '1-0');
      expect(between.recovered).toBe(false);
      expect(between.events.map((e) => e.id)).toEqual(ids);
      expect((await bus.history(freshChannel('empty'), '1-0')).recovered).toBe(false);
    });

    test('history since an id trimmed away is not recovered but holds the later events it kept', async () => {
      const historySize = 10;
      const bus = await open({ historySize });
      const channel = freshChannel();
      // More than a Redis stream node (100 entries) past the limit, so that approximate trimming trims.
      const ids = (await bus.publish(Array.from({ length: 250 }, (_, i) => ev(channel, i)))).map((r) => r.id);
      const history = await bus.history(channel, ids[0]!);
      expect(history.recovered).toBe(false);
      const held = history.events.map((e) => e.id);
      expect(held.length).toBeGreaterThanOrEqual(historySize);
      expect(held.length).toBeLessThan(ids.length - 1);
      expect(held).toEqual(ids.slice(ids.length - held.length));
    });

    test('concurrent publishers keep per-channel order for subscribers and history', async () => {
      const bus = await open();
      const channel = freshChannel();
      const handler = recorder();
      await bus.subscribe(channel, handler);
      const [start] = await bus.publish([ev(channel, 'start')]);
      await eventually(() => handler.events.length === 1, 'the start event arrived');
      const producers = [0, 1, 2, 3].map(async (p) => {
        const ids: string[] = [];
        for (let n = 0; n < 25; n++) ids.push((await bus.publish([ev(channel, { p, n })]))[0]!.id);
        return ids;
      });
      const perProducer = await Promise.all(producers);
      for (const ids of perProducer) expectIncreasing(ids);
      await eventually(() => handler.events.length === 101, 'all 100 events arrived');
      const delivered = handler.ids().slice(1);
      expectIncreasing(delivered);
      expect([...delivered].sort()).toEqual(perProducer.flat().sort());
      const history = await bus.history(channel, start!.id);
      expect(history.events.map((e) => e.id)).toEqual(delivered);
      for (const p of [0, 1, 2, 3]) {
        const ns = handler.data().slice(1).filter((d) => (d as { p: number }).p === p).map((d) => (d as { n: number }).n);
        expect(ns).toEqual(Array.from({ length: 25 }, (_, i) => i));
      }
    });
  });
}
