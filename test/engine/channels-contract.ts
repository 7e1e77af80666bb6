import { afterEach, describe, expect, test } from 'vitest';
import { eventually, freshChannel } from '../support/recorder.js';
import { UNDELIVERABLE_SECRET, type ReplicaFactory, type ReplicaSet } from './replicas.js';

/** Behaviour every Channels must have (services/engine/channels.ts); run on the memory and the Redis engine. */
export function channelsContract(name: string, makeReplicas: ReplicaFactory): void {
  describe(`${name} keeps the Channels contract`, () => {
    const open: ReplicaSet[] = [];
    const replicas = async (count: number, webhooks = true) => {
      const set = await makeReplicas(count, {
        presenceTtlSeconds: 3,
        statsIntervalSeconds: 0.1,
        webhookUrls: webhooks ? ['http://127.0.0.1:9/hooks'] : [],
        webhookSecret: UNDELIVERABLE_SECRET,
      });
      open.push(set);
      return set;
    };
    afterEach(async () => {
      while (open.length) await open.pop()!.close();
    });

    test('a channel is occupied once however many replicas occupy it, and vacated once when the last one leaves', async () => {
      const { replicas: [a, b], outbox } = await replicas(2);
      const channel = freshChannel('busy');
      await a!.channels.occupy(channel);
      await b!.channels.occupy(channel);
      await a!.channels.occupy(channel); // again: no-op
      await a!.channels.vacate(channel);
      expect((await outbox(channel)).map((t) => t.kind)).toEqual(['channel.occupied']);
      await b!.channels.vacate(channel);
      await b!.channels.vacate(channel); // again: no-op
      expect((await outbox(channel)).map((t) => t.kind)).toEqual(['channel.occupied', 'channel.vacated']);
      await a!.channels.occupy(channel);
      expect((await outbox(channel)).map((t) => t.kind)).toEqual(['channel.occupied', 'channel.vacated', 'channel.occupied']);
    });

    test('subscriber counts add up over every replica, within STATS_INTERVAL_SECONDS', async () => {
      const { replicas: [a, b] } = await replicas(2);
      const channel = freshChannel('counted');
      await a!.channels.occupy(channel);
      await b!.channels.occupy(channel);
      a!.channels.report(channel, 3);
      b!.channels.report(channel, 4);
      await eventually(async () => (await a!.channels.subscribers(channel)) === 7, 'the counts of both replicas', 5000);
      b!.channels.report(channel, 1);
      await eventually(async () => (await b!.channels.subscribers(channel)) === 4, 'the new count', 5000);
      await b!.channels.vacate(channel);
      await eventually(async () => (await a!.channels.subscribers(channel)) === 3, 'the vacated replica no longer counted', 5000);
    });

    test('lists occupied channels by name, by prefix, a page at a time', async () => {
      const { replicas: [a] } = await replicas(1, false);
      const prefix = `${freshChannel('list')}:`;
      const names = ['c', 'a', 'b', 'd'].map((n) => prefix + n);
      for (const name of names) await a!.channels.occupy(name);
      await a!.channels.occupy(`${prefix.slice(0, -1)}x-other`);
      await a!.channels.vacate(prefix + 'd');
      a!.channels.report(prefix + 'a', 2);
      await eventually(async () => (await a!.channels.list({ prefix, limit: 10 })).channels[0]?.subscribers === 2, 'the count', 5000);
      const first = await a!.channels.list({ prefix, limit: 2 });
      expect(first).toEqual({ channels: [{ channel: prefix + 'a', subscribers: 2 }, { channel: prefix + 'b', subscribers: 0 }], next: prefix + 'b' });
      const second = await a!.channels.list({ prefix, limit: 2, after: first.next! });
      expect(second).toEqual({ channels: [{ channel: prefix + 'c', subscribers: 0 }], next: null });
    });

    test('a replica that stopped without vacating stops counting within PRESENCE_TTL_SECONDS, and its last channels are vacated', async () => {
      const { replicas: [a, b], outbox } = await replicas(2);
      const [shared, alone] = [freshChannel('shared'), freshChannel('alone')];
      await a!.channels.occupy(shared);
      await b!.channels.occupy(shared);
      await b!.channels.occupy(alone);
      b!.channels.report(shared, 5);
      b!.channels.report(alone, 1);
      await eventually(async () => (await a!.channels.subscribers(shared)) === 5, 'b\'s count', 5000);
      await b!.crash();
      await eventually(async () => (await outbox(alone)).length === 2, 'the dead replica\'s channel vacated', 10_000);
      expect((await outbox(alone)).map((t) => t.kind)).toEqual(['channel.occupied', 'channel.vacated']);
      expect((await outbox(shared)).map((t) => t.kind)).toEqual(['channel.occupied']);
      // The dead replica's channels are cleaned up one after the other: `shared` may come a moment after `alone`.
      await eventually(async () => (await a!.channels.subscribers(shared)) === 0, 'the dead replica stopped counting', 10_000);
      expect((await a!.channels.list({ prefix: alone, limit: 10 })).channels).toEqual([]);
    });
  });
}
