import { afterEach, expect, test } from 'vitest';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { MemoryBroker } from '../../services/engine/memory/memory-broker.js';
import { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { transitionJson } from '../../services/engine/outbox.js';
import { MemoryOutboxStore } from '../../services/engine/webhooks/memory-outbox.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { eventually, freshChannel, sinkLogger } from '../support/recorder.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { WEBHOOK_SECRET, webhooksContract } from './webhooks-contract.js';

webhooksContract('the memory broker', async () => {
  const config = { historySize: 100, historyTtlSeconds: 0, idempotencyTtlSeconds: 60, webhookUrls: ['http://127.0.0.1:9/unused'] };
  const broker = new MemoryBroker({ config });
  const bus = new MemoryBus({ config, logger: sinkLogger().logger, broker });
  return {
    append: async (t) => broker.append(true, t),
    publishClient: async (channel, data, publisher) => (await bus.publish([{ channel, data, ts: Date.now(), publisher }]))[0]!.id,
    publishSource: async (channel, data) => void (await bus.publish([{ channel, data, ts: Date.now() }])),
    store: () => new MemoryOutboxStore(broker),
    outbox: async (channel) => (broker.outbox.get(channel) ?? []).map(transitionJson),
    drained: async (channel) => !broker.outbox.has(channel),
    cleanup: async () => {
      await bus.close();
      broker.close();
    },
  };
});

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closing.length) await closing.pop()!();
});

test('the embedded engine with WEBHOOK_URLS reports its occupancy and presence, occupied before join, and no webhook without URLs', async () => {
  const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
  closing.push(() => receiver.close());
  const config = loadConfig({ WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET });
  const engine = createMemoryEngine({ config, logger: sinkLogger().logger });
  closing.push(() => engine.close());
  const channel = freshChannel('room');
  await engine.channels.occupy(channel);
  await engine.presence.join(channel, 'conn-1', { user: 'u1', info: {} });
  await engine.presence.leave(channel, 'conn-1');
  await engine.channels.vacate(channel);
  await eventually(() => receiver.events().length === 4, 'four webhooks events arrived');
  expect(receiver.events().map((e) => [e.kind, e.user])).toEqual([
    ['channel.occupied', undefined],
    ['presence.join', 'u1'],
    ['presence.leave', 'u1'],
    ['channel.vacated', undefined],
  ]);

  const quiet = createMemoryEngine({ config: loadConfig({}), logger: sinkLogger().logger });
  closing.push(() => quiet.close());
  await quiet.channels.occupy(channel);
  expect(quiet.broker.outbox.size).toBe(0);
});
