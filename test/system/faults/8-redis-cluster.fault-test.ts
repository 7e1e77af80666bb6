import { describe, expect, test } from 'vitest';
import { channelSlot } from '../../../services/engine/redis/cluster/slots.js';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep, type Running } from '../../support/fault-scenario.js';
import { recovery, replicationLost, startClusterStack, unavailableCount, type ClusterStack } from '../../support/fault-topologies.js';

/** Publishing before the fault, and after recovery, so that both sides of it carry traffic. */
const BEFORE_MS = 5000;
const AFTER_MS = 5000;
const MAX_PUBLISH_MS = 40_000;

const LOAD_CLUSTER = `${LOAD}, 3 masters + 3 replicas`;

async function faultAndRecover(r: Running<ClusterStack>, fault: (r: Running<ClusterStack>, busyMaster: number) => Promise<void>): Promise<number> {
  r.stack.watch(r.channels);
  await sleep(BEFORE_MS);
  const busyMaster = await r.stack.cluster.masterOf(channelSlot(r.channels[0]!));
  const timing = recovery(r);
  await fault(r, busyMaster);
  const recoverMs = await timing;
  await sleep(AFTER_MS);
  return recoverMs;
}

/** Delivery measured against what Redis still holds: an event the failover itself lost could be delivered to nobody. */
function figures(r: Running<ClusterStack>) {
  const stored = (p: { channel: string; acknowledged: string[] }) => p.acknowledged.filter((id) => r.stack.stored.get(p.channel)?.has(id));
  return { ...tally(r.publishers, r.fleet.subscribers, stored), unavailable: unavailableCount(r), replicationLost: replicationLost(r) };
}

describe('scenario 8: Redis Cluster topology changes under load', () => {
  for (const wait of [0, 1]) {
    test(`SIGKILL of the master owning a busy channel's slot (REDIS_WAIT_REPLICAS=${wait}): its replica takes over, nothing is duplicated or reordered, no silent gap`, async () => {
      let recoverMs = 0;
      const r = await runScenario(
        { start: (env) => startClusterStack({ ...env, REDIS_WAIT_REPLICAS: String(wait), REDIS_WAIT_TIMEOUT_MS: '500' }), maxPublishMs: MAX_PUBLISH_MS },
        async (run) => {
          recoverMs = await faultAndRecover(run, async (rr, master) => {
            await rr.stack.cluster.kill(master);
            // As an orchestrator would: the node comes back (as a replica of the promoted one) after the
            // promotion. Until then the shard has no replica, and with REDIS_WAIT_REPLICAS=1 no publish there can succeed.
            const slot = channelSlot(rr.channels[0]!);
            for (let i = 0; i < 200 && (await rr.stack.cluster.masterOf(slot).catch(() => master)) === master; i++) await sleep(100);
            await rr.stack.cluster.restart(master);
          });
        },
      );
      const t = figures(r);
      recordRow({
        id: wait === 0 ? '8a' : '8b',
        scenario: `Cluster: busy channel's master SIGKILLed, REDIS_WAIT_REPLICAS=${wait}`,
        load: `${LOAD_CLUSTER}, ${(BEFORE_MS + AFTER_MS) / 1000} s + recovery`,
        faults: 'SIGKILL of the master owning channel 0\'s slot; its replica promoted (cluster-node-timeout 1000 ms), then the node restarted (rejoins as replica)',
        ...t,
        recoveredFalse: r.fleet.recoveredFalse(),
        peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
        recoverMs,
        notes: `${r.fleet.reconnects()} reconnects; ${t.subscribersWithLoss} subscribers missed stored events`,
      });
      expect(t.published).toBeGreaterThan(0);
      expect(t.unavailable, 'publishes to the dead master were refused while it was down').toBeGreaterThan(0);
      expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
      if (wait > 0) expect(t.replicationLost).toBe(0);
    });
  }

  test('graceful CLUSTER FAILOVER of a busy channel\'s master: no event lost, duplicated or reordered', async () => {
    let recoverMs = 0;
    const r = await runScenario({ start: (env) => startClusterStack(env), maxPublishMs: MAX_PUBLISH_MS }, async (run) => {
      recoverMs = await faultAndRecover(run, async (rr, master) => {
        const replica = (await rr.stack.cluster.nodes()).find((n) => n.role === 'replica' && n.masterPort === master)!;
        await rr.stack.cluster.failover(replica.port);
      });
    });
    const t = figures(r);
    recordRow({
      id: '8c',
      scenario: 'Cluster: CLUSTER FAILOVER of a busy channel\'s master',
      load: `${LOAD_CLUSTER}, ${(BEFORE_MS + AFTER_MS) / 1000} s + recovery`,
      faults: 'CLUSTER FAILOVER on the replica of the master owning channel 0\'s slot',
      ...t,
      recoveredFalse: r.fleet.recoveredFalse(),
      peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
      recoverMs,
      notes: `${r.fleet.reconnects()} reconnects`,
    });
    expect(t.published).toBeGreaterThan(0);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0, replicationLost: 0 });
  });

  test('migration of a busy channel\'s slot to another master during publishing: no event lost, duplicated or reordered', async () => {
    let recoverMs = 0;
    const r = await runScenario({ start: (env) => startClusterStack(env), maxPublishMs: MAX_PUBLISH_MS }, async (run) => {
      recoverMs = await faultAndRecover(run, async (rr, master) => {
        const target = (await rr.stack.cluster.nodes()).find((n) => n.role === 'master' && n.port !== master)!;
        await rr.stack.cluster.migrateSlot(channelSlot(rr.channels[0]!), target.port);
      });
    });
    const t = figures(r);
    recordRow({
      id: '8d',
      scenario: 'Cluster: a busy channel\'s slot migrated',
      load: `${LOAD_CLUSTER}, ${(BEFORE_MS + AFTER_MS) / 1000} s + recovery`,
      faults: 'SETSLOT IMPORTING/MIGRATING, MIGRATE of channel 0\'s keys, SETSLOT NODE on every master',
      ...t,
      recoveredFalse: r.fleet.recoveredFalse(),
      peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
      recoverMs,
      notes: `${r.fleet.reconnects()} reconnects`,
    });
    expect(t.published).toBeGreaterThan(0);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0, replicationLost: 0 });
  });
});
