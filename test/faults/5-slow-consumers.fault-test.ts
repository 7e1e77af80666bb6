import { expect, test } from 'vitest';
import { percentile } from './fleet.js';
import { recordRow, tally } from './report.js';
import { CHANNELS, SUBSCRIBERS, runScenario, sleep, type Running } from './scenario.js';

/**
 * Large events at a high rate: loopback holds about 3-4 MB per socket in
 * kernel buffers before the server's own buffer (MAX_BUFFERED_BYTES) grows
 * at all, and a slow consumer is only cut once that is full.
 */
const PADDING = 8 * 1024;
const RATE_PER_CHANNEL = 25;
const MAX_BUFFERED_BYTES = 64 * 1024;
const isSlow = (i: number) => i % 10 === 0;
const LOAD = `${SUBSCRIBERS} subscribers on ${CHANNELS} channels, ${CHANNELS * RATE_PER_CHANNEL} events/s of ${PADDING / 1024} KiB`;

const options = {
  stack: { env: { MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES) } },
  padding: PADDING,
  ratePerChannel: RATE_PER_CHANNEL,
  maxPublishMs: 60_000,
};

const p99OfReaders = (r: Running) => percentile(r.fleet.subscribers.filter((s) => !isSlow(s.index)).flatMap((s) => s.latencies), 99);

test('scenario 5: subscribers that stop reading are cut with 4008 and resume with nothing lost, and the others p99 latency stays within 2x of a run without them', async () => {
  const baseline = await runScenario(options, async () => {
    await sleep(10_000);
  });
  let cutDuringRun = 0;
  const slowRun = await runScenario({ ...options, fleet: { slow: isSlow, slowOfflineMs: 1000 } }, async ({ fleet }) => {
    const slow = fleet.subscribers.filter((s) => isSlow(s.index));
    const deadline = Date.now() + 45_000;
    // A reader that never reads never sees the 4008 close frame either (it waits behind the
    // unread data); the server terminates the socket 5 s later. So: any close while slow.
    while (Date.now() < deadline && !slow.every((s) => s.closeCodes.length > 0)) await sleep(200);
    cutDuringRun = slow.filter((s) => s.closeCodes.length > 0).length;
    await sleep(3000);
  });
  const t = tally(slowRun.publishers, slowRun.fleet.subscribers);
  const slow = slowRun.fleet.subscribers.filter((s) => isSlow(s.index));
  // Counted before teardown, which closes every socket.
  const cut = cutDuringRun;
  const base = p99OfReaders(baseline);
  const withSlow = p99OfReaders(slowRun);
  // Below ~20 ms the p99 is scheduling noise of a shared 2-core machine, not a property of the relay.
  const ratio = withSlow / Math.max(base, 20);
  recordRow({
    id: '5',
    scenario: 'slow consumers',
    load: LOAD,
    faults: `${slow.length} subscribers (10 %) stop reading; MAX_BUFFERED_BYTES=${MAX_BUFFERED_BYTES}`,
    ...t,
    recoveredFalse: slowRun.fleet.recoveredFalse(),
    peakReconnectsPerSecond: slowRun.fleet.peakReconnectsPerSecond(),
    notes: `${cut}/${slow.length} cut (4008 sent; they never read it, so they see the socket end), then resumed; readers' p99 ${withSlow} ms vs ${base} ms without slow consumers (ratio ${ratio.toFixed(2)}, floor 20 ms)`,
  });
  expect(cut).toBe(slow.length);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
  expect(tally(baseline.publishers, baseline.fleet.subscribers)).toMatchObject({ lost: 0, duplicated: 0 });
  expect(ratio).toBeLessThanOrEqual(2);
}, 180_000);
