import { expect, test } from 'vitest';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep } from '../../support/fault-scenario.js';

const DRAIN_WINDOW_SECONDS = 3;
const CLIENT_SERVERS = 3;

test('scenario 4: a rolling restart with SIGTERM spreads reconnects over the drain window and loses nothing', async () => {
  const r = await runScenario(
    { stack: { clients: CLIENT_SERVERS, env: { DRAIN_WINDOW_SECONDS: String(DRAIN_WINDOW_SECONDS) } }, maxPublishMs: 60_000 },
    async ({ stack }) => {
      await sleep(2000);
      for (let i = 0; i < CLIENT_SERVERS; i++) {
        await stack.signalClient(i, 'SIGTERM');
        await stack.startClient(i);
        await sleep(1000);
      }
    },
  );
  const t = tally(r.publishers, r.fleet.subscribers);
  const peak = r.fleet.peakReconnectsPerSecond();
  recordRow({
    id: '4',
    scenario: 'rolling restart',
    load: LOAD,
    faults: `SIGTERM then restart of each of ${CLIENT_SERVERS} client-servers in turn, DRAIN_WINDOW_SECONDS=${DRAIN_WINDOW_SECONDS}`,
    ...t,
    recoveredFalse: r.fleet.recoveredFalse(),
    peakReconnectsPerSecond: peak,
    notes: `${r.fleet.reconnects()} reconnects; per second: ${r.fleet.reconnectsBySecond()}`,
  });
  // Every subscriber was drained at least once; the last server drained held most of the fleet
  // (drained subscribers move on round-robin), yet no second saw even half of the fleet reconnect.
  expect(r.fleet.reconnects()).toBeGreaterThanOrEqual(r.fleet.subscribers.length);
  expect(peak).toBeLessThan(r.fleet.subscribers.length / 2);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
});
