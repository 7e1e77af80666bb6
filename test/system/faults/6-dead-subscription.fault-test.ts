import { Redis } from 'ioredis';
import { expect, test } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { recordRow, tally } from '../../support/fault-report.js';
import { LOAD, runScenario, sleep, watchStatuses } from '../../support/fault-scenario.js';

/** Sum of a counter over the client-servers' /metrics. */
async function counter(urls: string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    sum += Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1] ?? 0);
  }
  return sum;
}

test('scenario 6: a pub/sub connection killed by Redis, and one that silently stops delivering, are both noticed, resubscribed and backfilled', async () => {
  let proxy: TcpProxy | undefined;
  let stalled = 0;
  let readiness = new Map<string, Set<number>>();
  const figures = { reconnectsAfterKill: 0, canaryFailures: 0 };
  try {
    const r = await runScenario(
      {
        stack: {
          clientRedisUrl: async (port) => {
            proxy = await startTcpProxy(port);
            return `redis://127.0.0.1:${proxy.port}`;
          },
        },
        maxPublishMs: 60_000,
      },
      async ({ stack }) => {
        await sleep(2000);
        // 1. Redis closes every pub/sub connection.
        const admin = new Redis(stack.redis.url);
        try {
          expect(Number(await admin.client('KILL', 'TYPE', 'PUBSUB'))).toBe(stack.clientUrls.length);
        } finally {
          admin.disconnect();
        }
        await sleep(4000);
        figures.reconnectsAfterKill = await counter(stack.clientUrls, 'eventrelay_bus_reconnects_total');
        // 2. The pub/sub connections stay open but Redis's side stops arriving: only the canary can tell.
        readiness = await watchStatuses(
          stack.clientUrls.map((u) => `${u}/readyz`),
          async () => {
            stalled = proxy!.stall('eventrelay-pubsub');
            const deadline = Date.now() + 20_000;
            while (Date.now() < deadline && (await counter(stack.clientUrls, 'eventrelay_bus_canary_failures_total')) < stalled) await sleep(200);
            await sleep(2000);
          },
        );
        figures.canaryFailures = await counter(stack.clientUrls, 'eventrelay_bus_canary_failures_total');
        await sleep(2000);
      },
    );
    const t = tally(r.publishers, r.fleet.subscribers);
    recordRow({
      id: '6',
      scenario: 'dead subscription',
      load: LOAD,
      faults: 'CLIENT KILL TYPE pubsub; then both client-servers\' pub/sub connections silently stalled (proxy stops forwarding Redis→client)',
      ...t,
      recoveredFalse: r.fleet.recoveredFalse(),
      peakReconnectsPerSecond: r.fleet.peakReconnectsPerSecond(),
      notes: `bus reconnects after the kill: ${figures.reconnectsAfterKill}; canary failures: ${figures.canaryFailures} (readiness 503 meanwhile), each followed by resubscribe and backfill`,
    });
    expect(figures.reconnectsAfterKill).toBe(2);
    expect(stalled).toBe(2);
    expect(figures.canaryFailures).toBeGreaterThanOrEqual(2);
    for (const [url, seen] of readiness) expect([url, seen.has(503)]).toEqual([url, true]);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0 });
  } finally {
    await proxy?.close();
  }
});
