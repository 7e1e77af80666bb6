import { expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep } from '../../support/fault-scenario.js';

const TTL_SECONDS = 4;

test('scenario 7: a token that expires on a live connection closes it with 4001 at exp, and nothing is delivered after it', async () => {
  let exp = 0;
  let token = '';
  const tokenFor = () => token;
  const r = await runScenario(
    {
      fleet: {
        token: () => tokenFor(),
        finalCodes: [4001],
      },
      maxPublishMs: 30_000,
      catchUp: false,
    },
    async ({ fleet }) => {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && fleet.subscribers.some((s) => s.closedAt === undefined)) await sleep(200);
      // Keep publishing a little after everyone is gone: none of it may arrive.
      await sleep(2000);
    },
    {
      beforeFleet: (stack) => {
        const now = Date.now();
        token = signSubscriberToken(stack.jwtSecret, { channels: ['*'], ttlSeconds: TTL_SECONDS, nowMs: now });
        exp = (Math.floor(now / 1000) + TTL_SECONDS) * 1000;
      },
    },
  );
  const subs = r.fleet.subscribers;
  // Delivery is judged for the events stored while the token was valid (ids start with the store's ms).
  const beforeExp = (p: (typeof r.publishers)[number]) => p.acknowledged.filter((id) => Number(id.split('-')[0]) < exp - 250);
  const t = tally(r.publishers, subs, beforeExp);
  const afterExp = r.publishers.reduce((n, p) => n + p.acknowledged.filter((id) => Number(id.split('-')[0]) > exp + 250).length, 0);
  const deliveredLate = subs.reduce((n, s) => n + s.receivedTs.filter((ts) => ts > exp + 250).length, 0);
  recordRow({
    id: '7',
    scenario: 'token expires on a live connection',
    load: LOAD,
    faults: `every subscriber's JWT expires ${TTL_SECONDS} s after connecting`,
    ...t,
    published: r.publishers.reduce((n, p) => n + p.acknowledged.length, 0),
    recoveredFalse: r.fleet.recoveredFalse(),
    peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
    notes: `${subs.filter((s) => s.closeCodes.at(-1) === 4001).length}/${subs.length} closed with 4001, none before exp; ${afterExp} events published after exp, ${deliveredLate} delivered (lost counts only events before exp)`,
  });
  for (const s of subs) {
    expect(s.closeCodes).toEqual([4001]);
    expect(s.closedAt).toBeGreaterThanOrEqual(exp);
  }
  expect(afterExp).toBeGreaterThan(0);
  expect(deliveredLate).toBe(0);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
});
