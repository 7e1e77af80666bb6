import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { Hub } from '../../services/client-server/hub.js';
import { Subscription } from '../../services/client-server/subscription.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import type { PresenceChange } from '../../services/engine/presence.js';
import { STREAM_IDS } from '../../services/protocol/event-id.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { ClientMetrics } from '../../services/client-server/client-metrics.js';

const logger = pino({ level: 'silent' });

describe('the hub, for every protocol', () => {
  test('occupies a channel on its first subscriber and vacates it after its last; counts what it holds', async () => {
    const engine = createMemoryEngine({ config: loadConfig({ STATS_INTERVAL_SECONDS: '0.1' }), logger });
    const hub = new Hub({ bus: engine.bus, presence: engine.presence, channels: engine.channels, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const sink = { send: () => true, sendPresence: () => true, gap: () => {} };
    const [a, b] = [new Subscription('c', sink, STREAM_IDS, hub), new Subscription('c', sink, STREAM_IDS, hub)];
    await hub.join(a);
    await hub.join(b);
    expect((await engine.channels.list({ prefix: 'c', limit: 10 })).channels.map((c) => c.channel)).toEqual(['c']);
    await expect.poll(() => engine.channels.subscribers('c')).toBe(2);
    a.close();
    b.close();
    await expect.poll(async () => (await engine.channels.list({ prefix: 'c', limit: 10 })).channels).toEqual([]);
    await engine.close();
  });

  test("presence observers hear the transitions of the channels it holds, and only those", async () => {
    const engine = createMemoryEngine({ config: loadConfig({}), logger });
    const hub = new Hub({ bus: engine.bus, presence: engine.presence, channels: engine.channels, logger, metrics: new ClientMetrics({ defaultMetrics: false }) });
    const heard: [string, PresenceChange][] = [];
    hub.observePresence({ onPresence: (channel, change) => heard.push([channel, change]), onResume: () => {} });
    const held = new Subscription('room', { send: () => true, sendPresence: () => true, gap: () => {} }, STREAM_IDS, hub);
    await hub.join(held);
    await engine.presence.join('room', 'c1', { user: 'u1', info: {} });
    await engine.presence.join('elsewhere', 'c2', { user: 'u2', info: {} });
    await engine.presence.leave('room', 'c1');
    expect(heard).toEqual([
      ['room', { type: 'join', user: 'u1', info: {} }],
      ['room', { type: 'leave', user: 'u1' }],
    ]);
    held.close();
    await engine.close();
  });
});
