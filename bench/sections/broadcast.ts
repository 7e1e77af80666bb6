// Broadcast path (the original bench): eventrelay against the bare ws floor
// and Socket.IO at a fixed delivery rate, a ramp to the highest rate with
// p99 < 50 ms and no loss, optional idle connections, and a CPU profile of
// the eventrelay client-server at the fixed rate.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conditionsNow } from '../lib/format.js';
import { runLoad, type LoadOptions, type LoadResult } from '../lib/load-run.js';
import { readProfile, summarizeProfile, type HotFunction } from '../lib/profile-summary.js';
import { passes, renderBroadcast, renderChart, type Report } from '../lib/report.js';
import { describe, type BenchContext, type SectionOutput } from './context.js';

export const CHART_FILE = 'bench/latency-vs-rate.svg';

export async function broadcastSection(ctx: BenchContext): Promise<SectionOutput> {
  const { o, log } = ctx;
  const base: Omit<LoadOptions, 'deliveriesPerSecond'> = {
    subscribers: o.subscribers, channels: o.channels, seconds: o.seconds, warmupSeconds: o.warmup, loadProcesses: o.loadProcs, dataBytes: o.dataBytes,
  };
  const tables: NonNullable<Report['tables']> = { fixed: conditionsNow(ctx.machine) };
  const fixed: LoadResult[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const kind of o.targets) {
      const r = await ctx.withTarget(kind, {}, (t) => runLoad(t, { ...base, deliveriesPerSecond: o.rate }));
      log(`fixed #${round} ${describe(r)}`);
      fixed.push(r);
    }
  }

  tables.ramp = conditionsNow(ctx.machine);
  const ramp: LoadResult[] = [];
  const alive = new Set(o.targets);
  for (const rate of o.ramp) {
    for (const kind of o.targets) {
      if (!alive.has(kind)) continue;
      const r = await ctx.withTarget(kind, {}, (t) => runLoad(t, { ...base, deliveriesPerSecond: rate }));
      log(`ramp ${rate}/s ${describe(r)}`);
      ramp.push(r);
      if (!passes(r)) alive.delete(kind);
    }
  }

  const idle: LoadResult[] = [];
  if (o.idle > 0) {
    tables.idle = conditionsNow(ctx.machine);
    for (const kind of o.targets) {
      // A trickle (two events per channel per second) after connecting proves every connection still receives.
      const r = await ctx.withTarget(kind, {}, (t) => runLoad(t, { ...base, subscribers: o.idle, seconds: 3, deliveriesPerSecond: o.idle * 2, measureIdleRss: true }));
      log(`idle ${describe(r)}`);
      idle.push(r);
    }
  }

  let profile: HotFunction[] | undefined;
  if (o.profile && o.targets.includes('eventrelay')) {
    tables.profile = conditionsNow(ctx.machine);
    const dir = mkdtempSync(join(tmpdir(), 'eventrelay-prof-'));
    let clientPid = 0;
    await ctx.withTarget('eventrelay', { profileDir: dir }, async (t) => {
      clientPid = t.subscriberPids[0]!;
      log(`profiled ${describe(await runLoad(t, { ...base, deliveriesPerSecond: o.rate }))}`);
    });
    const data = readProfile(dir, clientPid);
    profile = data ? summarizeProfile(data) : undefined;
    // Kept outside the repository (megabytes); open it in Chrome DevTools or speedscope.
    log(`CPU profiles of the eventrelay processes kept in ${dir}`);
  }

  const lines = renderBroadcast({
    command: '', date: '', machine: ctx.machine, conditions: '',
    subscribers: o.subscribers, channels: o.channels, dataBytes: o.dataBytes,
    fixed, ramp, idle, publishPath: [], profile, chartFile: CHART_FILE, tables,
  });
  return { lines, files: [{ path: CHART_FILE, content: renderChart(ramp.length ? ramp : fixed) }] };
}
