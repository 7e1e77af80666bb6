import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import type { Bus, HistoryResult } from '../../services/engine/bus.js';
import type { OutboundEvent } from '../../services/client-server/outbound-event.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { ClientMetrics } from '../../services/client-server/client-metrics.js';
import { Hub } from '../../services/client-server/hub.js';
import { openSubscription } from '../../services/client-server/open-subscription.js';
import type { Sink } from '../../services/client-server/subscription.js';

const logger = pino({ level: 'silent' });
const config = loadConfig({});

/** A sink that records what a connection would have been sent. */
function recorder(): Sink & { ids: string[] } {
  const ids: string[] = [];
  return { ids, send: (e: OutboundEvent) => (ids.push(e.id), true), sendPresence: () => true, gap: () => {} };
}

async function publish(bus: Bus, channel: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await bus.publish([{ channel, data: String(i), ts: Date.now() }]))[0]!.id);
  return ids;
}

describe('the resume seam', () => {
  test('events published after the live join but before the history read arrive once, in order', async () => {
    const engine = createMemoryEngine({ config, logger });
    const memory = engine.bus;
    // The history read is where the race lives: events published while it runs are both
    // in the live buffer and in what the read returns.
    let during: string[] = [];
    const bus: Bus = Object.assign(Object.create(memory) as Bus, {
      async history(channel: string, since: string): Promise<HistoryResult> {
        during = await publish(memory, channel, 3);
        return memory.history(channel, since);
      },
    });
    const hub = new Hub({ ...engine, bus, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const before = await publish(memory, 'c', 4);
    const sink = recorder();
    const opened = (await openSubscription({ hub, bus }, { channel: 'c', since: before[0] }, sink))!;
    expect(opened.recovered).toBe(true);
    opened.start();
    const after = await publish(memory, 'c', 2);
    expect(sink.ids).toEqual([...before.slice(1), ...during, ...after]);
    await engine.close();
  });

  test('a live event that arrives after the history read already returned it is not sent twice', async () => {
    const engine = createMemoryEngine({ config, logger });
    const memory = engine.bus;
    const hub = new Hub({ ...engine, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const [since] = await publish(memory, 'c', 1);
    const sink = recorder();
    const opened = (await openSubscription({ hub, bus: memory }, { channel: 'c', since }, sink))!;
    opened.start();
    const [live] = await publish(memory, 'c', 1);
    // Redis can hand the same event to the subscriber connection late, after a history read on
    // the command connection returned it: the hub delivers it again.
    const event = (await memory.history('c', since!)).events[0]!;
    hub.onEvent(event);
    expect(sink.ids).toEqual([live]);
    await engine.close();
  });
});
