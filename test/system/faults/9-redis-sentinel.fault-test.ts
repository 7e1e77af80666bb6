import { describe, expect, test } from 'vitest';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep, type Running } from '../../support/fault-scenario.js';
import { recovery, replicationLost, startSentinelStack, unavailableCount, type SentinelStack } from '../../support/fault-topologies.js';

const BEFORE_MS = 5000;
const AFTER_MS = 5000;

function figures(r: Running<SentinelStack>) {
  const stored = (p: { channel: string; acknowledged: string[] }) => p.acknowledged.filter((id) => r.stack.stored.get(p.channel)?.has(id));
  return { ...tally(r.publishers, r.fleet.subscribers, stored), unavailable: unavailableCount(r), replicationLost: replicationLost(r) };
}

describe('scenario 9: Redis Sentinel failover under load', () => {
  for (const wait of [0, 1]) {
    test(`SIGKILL of the primary (REDIS_WAIT_REPLICAS=${wait}): the services follow the promoted replica, nothing duplicated or reordered, no silent gap`, async () => {
      let recoverMs = 0;
      let failoverMs = 0;
      const r = await runScenario(
        { start: (env) => startSentinelStack({ ...env, REDIS_WAIT_REPLICAS: String(wait), REDIS_WAIT_TIMEOUT_MS: '500' }), maxPublishMs: 40_000 },
        async (run) => {
          run.stack.watch(run.channels);
          await sleep(BEFORE_MS);
          const timing = recovery(run);
          ({ failoverMs } = await run.stack.sentinel.killPrimary());
          recoverMs = await timing;
          await sleep(AFTER_MS);
        },
      );
      const t = figures(r);
      recordRow({
        id: wait === 0 ? '9a' : '9b',
        scenario: `Sentinel: primary SIGKILLed, REDIS_WAIT_REPLICAS=${wait}`,
        load: `${LOAD}, 1 primary + 2 replicas + 3 sentinels, ${(BEFORE_MS + AFTER_MS) / 1000} s + recovery`,
        faults: 'SIGKILL of the primary (down-after 1000 ms, quorum 2)',
        ...t,
        recoveredFalse: r.fleet.recoveredFalse(),
        peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
        recoverMs,
        notes: `promotion took ${(failoverMs / 1000).toFixed(1)} s; ${r.fleet.reconnects()} reconnects`,
      });
      expect(t.published).toBeGreaterThan(0);
      expect(t.unavailable).toBeGreaterThan(0);
      expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
      if (wait > 0) expect(t.replicationLost).toBe(0);
    });
  }
});
