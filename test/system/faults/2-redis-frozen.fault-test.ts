import { Redis } from 'ioredis';
import { expect, test } from 'vitest';
import { streamKey } from '../../../services/engine/redis/keys.js';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep, watchStatuses } from '../../support/fault-scenario.js';

const FROZEN_MS = 10_000;

test('scenario 2: while Redis is unreachable (SIGSTOP 10 s) publishes answer 503 unavailable with Retry-After, never 200 for an unstored event; readiness goes 503 on both services; everything recovers by itself', async () => {
  let readiness = new Map<string, Set<number>>();
  let readyAfter: number[] = [];
  let missingFromStream = -1;
  const r = await runScenario({ maxPublishMs: FROZEN_MS + 20_000 }, async ({ stack, publishers }) => {
    await sleep(3000);
    const urls = [stack.sourceUrl, ...stack.clientUrls].map((u) => `${u}/readyz`);
    readiness = await watchStatuses(urls, async () => {
      stack.redis.pause();
      try {
        await sleep(FROZEN_MS);
      } finally {
        stack.redis.resume();
      }
    });
    // Recovers by itself: every service ready again, then the stream goes on.
    const deadline = Date.now() + 20_000;
    do {
      readyAfter = await Promise.all(urls.map(async (u) => (await fetch(u)).status));
      if (readyAfter.every((s) => s === 200)) break;
      await sleep(200);
    } while (Date.now() < deadline);
    await sleep(3000);
    // Every 200 is stored: each acknowledged id is in its channel's stream.
    const redis = new Redis(stack.redis.url);
    try {
      missingFromStream = 0;
      for (const p of publishers) {
        const held = new Set((await redis.xrange(streamKey(p.channel), '-', '+')).map(([id]) => id));
        missingFromStream += p.acknowledged.filter((id) => !held.has(id)).length;
      }
    } finally {
      redis.disconnect();
    }
  });
  const t = tally(r.publishers, r.fleet.subscribers);
  const statuses = new Map<number, number>();
  for (const p of r.publishers) for (const [s, n] of p.statuses) statuses.set(s, (statuses.get(s) ?? 0) + n);
  recordRow({
    id: '2',
    scenario: 'Redis unreachable',
    load: LOAD,
    faults: `Redis SIGSTOP for ${FROZEN_MS / 1000} s`,
    ...t,
    recoveredFalse: r.fleet.recoveredFalse(),
    peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
    notes: `${statuses.get(503) ?? 0} × 503 unavailable (all with Retry-After), every 200 found in its stream; /readyz 503 on all 3 services during the freeze`,
  });
  expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect(r.publishers.flatMap((p) => p.badUnavailable)).toEqual([]);
  expect(missingFromStream).toBe(0);
  for (const [url, seen] of readiness) expect([url, seen.has(503)]).toEqual([url, true]);
  expect(readyAfter).toEqual([200, 200, 200]);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
});
