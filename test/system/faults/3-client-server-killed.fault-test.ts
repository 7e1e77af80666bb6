import { expect, test } from 'vitest';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep } from '../../support/fault-scenario.js';

test('scenario 3: the clients of a SIGKILLed client-server reconnect to another, resume with since and lose nothing', async () => {
  const r = await runScenario({ maxPublishMs: 30_000 }, async ({ stack }) => {
    await sleep(3000);
    await stack.killClient(0);
    await sleep(5000);
    await stack.startClient(0);
    await sleep(2000);
  });
  const t = tally(r.publishers, r.fleet.subscribers);
  recordRow({
    id: '3',
    scenario: 'client-server killed',
    load: LOAD,
    faults: 'SIGKILL of 1 of 2 client-servers, restarted 5 s later',
    ...t,
    recoveredFalse: r.fleet.recoveredFalse(),
    peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
    notes: `${r.fleet.reconnects()} reconnects`,
  });
  // Half of the fleet was on the killed one:
  expect(r.fleet.reconnects()).toBeGreaterThanOrEqual(r.fleet.subscribers.length / 2);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
});
