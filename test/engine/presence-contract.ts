import { afterEach, describe, expect, test } from 'vitest';
import { eventually, freshChannel } from '../support/recorder.js';
import { UNDELIVERABLE_SECRET, presenceRecorder, type ReplicaFactory, type ReplicaSet } from './replicas.js';

/** Behaviour every Presence must have (services/engine/presence.ts); run on the memory and the Redis engine. */
export function presenceContract(name: string, makeReplicas: ReplicaFactory): void {
  describe(`${name} keeps the Presence contract`, () => {
    const open: ReplicaSet[] = [];
    const replicas = async (count: number) => {
      const set = await makeReplicas(count, { presenceTtlSeconds: 3 });
      open.push(set);
      return set;
    };
    afterEach(async () => {
      while (open.length) await open.pop()!.close();
    });

    test('a user\'s first connection anywhere is one join for every subscribed replica; its second connection is none', async () => {
      const set = await replicas(2);
      const [a, b] = set.replicas;
      const channel = freshChannel('room');
      const [heardA, heardB] = [presenceRecorder(), presenceRecorder()];
      await a!.bus.subscribe(channel, heardA);
      await b!.bus.subscribe(channel, heardB);
      await a!.presence.join(channel, 'c1', { user: 'u1', info: { name: 'Ada' } });
      await b!.presence.join(channel, 'c2', { user: 'u1', info: { name: 'Ada' } });
      await a!.presence.join(channel, 'c1', { user: 'u1', info: { name: 'Ada' } }); // again: no-op
      await eventually(() => heardA.changes.length >= 1 && heardB.changes.length >= 1, 'the join arrived on both');
      await b!.presence.join(channel, 'c3', { user: 'u2', info: {} });
      await eventually(() => heardA.changes.length >= 2 && heardB.changes.length >= 2, 'the second user\'s join arrived on both');
      for (const heard of [heardA, heardB]) {
        expect(heard.changes).toEqual([
          { type: 'join', user: 'u1', info: { name: 'Ada' } },
          { type: 'join', user: 'u2', info: {} },
        ]);
      }
      const snapshot = await a!.presence.members(channel, 1000);
      expect(snapshot).toEqual({
        count: 2,
        members: [
          { user: 'u1', info: { name: 'Ada' }, connections: 2 },
          { user: 'u2', info: {}, connections: 1 },
        ],
        truncated: false,
      });
    });

    test('a user leaves once, when its last connection anywhere leaves', async () => {
      const set = await replicas(2);
      const [a, b] = set.replicas;
      const channel = freshChannel('room');
      const heard = presenceRecorder();
      await a!.bus.subscribe(channel, heard);
      await a!.presence.join(channel, 'c1', { user: 'u1', info: {} });
      await b!.presence.join(channel, 'c2', { user: 'u1', info: {} });
      await b!.presence.leave(channel, 'c2');
      await b!.presence.leave(channel, 'c2'); // unknown now: ignored
      expect((await b!.presence.members(channel, 10)).members).toEqual([{ user: 'u1', info: {}, connections: 1 }]);
      await a!.presence.leave(channel, 'c1');
      await eventually(() => heard.changes.length >= 2, 'the leave arrived');
      expect(heard.changes).toEqual([{ type: 'join', user: 'u1', info: {} }, { type: 'leave', user: 'u1' }]);
      expect(await b!.presence.members(channel, 10)).toEqual({ count: 0, members: [], truncated: false });
    });

    test('members are listed by user, at most the limit, with truncated when there are more', async () => {
      const set = await replicas(1);
      const [a] = set.replicas;
      const channel = freshChannel('room');
      for (const user of ['carol', 'alice', 'bob']) await a!.presence.join(channel, `c-${user}`, { user, info: { user } });
      expect(await a!.presence.members(channel, 2)).toEqual({
        count: 3,
        members: [
          { user: 'alice', info: { user: 'alice' }, connections: 1 },
          { user: 'bob', info: { user: 'bob' }, connections: 1 },
        ],
        truncated: true,
      });
      expect((await a!.presence.members(channel, 0)).count).toBe(3);
    });

    test('members of a replica that stopped without leaving expire within PRESENCE_TTL_SECONDS, each user\'s last one a leave', async () => {
      const set = await replicas(2);
      const [a, b] = set.replicas;
      const channel = freshChannel('room');
      const heard = presenceRecorder();
      await a!.bus.subscribe(channel, heard);
      await a!.presence.join(channel, 'c1', { user: 'stays', info: {} });
      await b!.presence.join(channel, 'c2', { user: 'stays', info: {} });
      await b!.presence.join(channel, 'c3', { user: 'goes', info: {} });
      await eventually(() => heard.changes.length >= 2, 'both joins arrived');
      await b!.crash();
      await eventually(() => heard.changes.length >= 3, 'the dead replica\'s member left', 10_000);
      expect(heard.changes.slice(2)).toEqual([{ type: 'leave', user: 'goes' }]);
      expect(await a!.presence.members(channel, 10)).toEqual({ count: 1, members: [{ user: 'stays', info: {}, connections: 1 }], truncated: false });
    });

    test('with webhooks on, each transition is in the channel\'s outbox once, in order', async () => {
      const set = await makeReplicas(2, { presenceTtlSeconds: 3, webhookUrls: ['http://127.0.0.1:9/hooks'], webhookSecret: UNDELIVERABLE_SECRET });
      open.push(set);
      const [a, b] = set.replicas;
      const channel = freshChannel('room');
      await a!.presence.join(channel, 'c1', { user: 'u1', info: {} });
      await b!.presence.join(channel, 'c2', { user: 'u1', info: {} });
      await a!.presence.leave(channel, 'c1');
      await b!.presence.leave(channel, 'c2');
      const kinds = (await set.outbox(channel)).map((t) => [t.kind, 'user' in t ? t.user : undefined, t.channel]);
      expect(kinds).toEqual([
        ['presence.join', 'u1', channel],
        ['presence.leave', 'u1', channel],
      ]);
    });
  });
}
