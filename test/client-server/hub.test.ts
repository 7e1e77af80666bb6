import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../services/engine/bus.js';
import type { OutboundEvent } from '../../services/client-server/outbound-event.js';
import { STREAM_IDS } from '../../services/protocol/event-id.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { ClientMetrics } from '../../services/client-server/client-metrics.js';
import { Hub } from '../../services/client-server/hub.js';
import { Subscription, type Sink } from '../../services/client-server/subscription.js';

const logger = pino({ level: 'silent' });
const config = loadConfig({});

function subscriber(channel: string): Subscription & { ids: string[] } {
  const ids: string[] = [];
  const sink: Sink = { send: (e: OutboundEvent) => (ids.push(e.id), true), sendPresence: () => true, gap: () => {} };
  // The tests call hub.join / hub.leave themselves, so the subscription's own close has nothing to leave.
  const sub = Object.assign(new Subscription(channel, sink, STREAM_IDS, { leave: () => {} }), { ids });
  sub.goLive(undefined, []);
  return sub;
}

/** Counts the bus calls the hub makes. */
function countingBus(inner: Bus) {
  const calls: string[] = [];
  const bus: Bus = Object.assign(Object.create(inner) as Bus, {
    subscribe: (channel: string, handler: Parameters<Bus['subscribe']>[1]) => (calls.push(`subscribe ${channel}`), inner.subscribe(channel, handler)),
    unsubscribe: (channel: string) => (calls.push(`unsubscribe ${channel}`), inner.unsubscribe(channel)),
  });
  return { bus, calls };
}

describe('the hub', () => {
  test('touches the bus only on the first join and the last leave of a channel', async () => {
    const engine = createMemoryEngine({ config, logger });
    const memory = engine.bus;
    const { bus, calls } = countingBus(memory);
    const hub = new Hub({ ...engine, bus, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const a = subscriber('c');
    const b = subscriber('c');
    await Promise.all([hub.join(a), hub.join(b)]);
    hub.leave(a);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['subscribe c']);
    hub.leave(b);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['subscribe c', 'unsubscribe c']);
    await engine.close();
  });

  test('a join right after the last leave of the same channel subscribes again, after the unsubscribe, and receives events', async () => {
    const engine = createMemoryEngine({ config, logger });
    const memory = engine.bus;
    const { bus, calls } = countingBus(memory);
    const hub = new Hub({ ...engine, bus, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const first = subscriber('c');
    await hub.join(first);
    // unsubscribe + subscribe in one breath, as one client frame batch can do
    hub.leave(first);
    const second = subscriber('c');
    await hub.join(second);
    const [result] = await memory.publish([{ channel: 'c', data: '1', ts: Date.now() }]);
    expect(second.ids).toEqual([result!.id]);
    expect(calls).toEqual(['subscribe c', 'unsubscribe c', 'subscribe c']);
    await engine.close();
  });
});

describe('the hub and occupancy', () => {
  test('occupies before subscribing the bus; a failed bus subscribe vacates again and the next join tries afresh', async () => {
    const engine = createMemoryEngine({ config, logger });
    const calls: string[] = [];
    let failSubscribe = true;
    const bus = Object.assign(Object.create(engine.bus) as Bus, {
      subscribe: async (channel: string, handler: Parameters<Bus['subscribe']>[1]) => {
        calls.push(`subscribe ${channel}`);
        if (failSubscribe) throw new Error('redis down');
        return engine.bus.subscribe(channel, handler);
      },
    });
    const channels = Object.assign(Object.create(engine.channels) as typeof engine.channels, {
      occupy: async (channel: string) => (calls.push(`occupy ${channel}`), engine.channels.occupy(channel)),
      vacate: async (channel: string) => (calls.push(`vacate ${channel}`), engine.channels.vacate(channel)),
    });
    const hub = new Hub({ ...engine, bus, channels, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    await expect(hub.join(subscriber('c'))).rejects.toThrow('redis down');
    expect(calls).toEqual(['occupy c', 'subscribe c', 'vacate c']);
    expect(hub.channelCount).toBe(0);
    failSubscribe = false;
    const second = subscriber('c');
    await hub.join(second);
    expect(calls.slice(3)).toEqual(['occupy c', 'subscribe c']);
    expect(await engine.channels.subscribers('c')).toBe(1);
    await engine.close();
  });

  test('a failed occupy fails the join and subscribes nothing', async () => {
    const engine = createMemoryEngine({ config, logger });
    const { bus, calls } = countingBus(engine.bus);
    const channels = Object.assign(Object.create(engine.channels) as typeof engine.channels, {
      occupy: async () => {
        throw new Error('cannot occupy');
      },
    });
    const hub = new Hub({ ...engine, bus, channels, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    await expect(hub.join(subscriber('c'))).rejects.toThrow('cannot occupy');
    expect(calls).toEqual([]);
    expect(hub.channelCount).toBe(0);
    await engine.close();
  });
});
