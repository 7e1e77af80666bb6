// `npm run bench`: eventrelay against Socket.IO + Redis and a bare ws floor,
// same load, alternating targets, each on a fresh private redis-server.
// Writes BENCHMARKS.md and bench/latency-vs-rate.svg. `--full` runs the
// issue's complete parameters (10,000 idle connections, a longer ramp, 3 rounds).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { startRedisServer } from '../tools/redis-server.js';
import type { Target } from './lib/ipc.js';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load-run.js';
import { loadAverage, machineDescription } from './lib/proc.js';
import { readProfile, summarizeProfile, type HotFunction } from './lib/profile-summary.js';
import { publishPath, type PublishPathResult } from './lib/publish-path.js';
import { passes, renderChart, renderMarkdown } from './lib/report.js';
import { ROOT, redisPid, startTarget, type RunningTarget } from './lib/targets.js';

const list = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);
const program = new Command()
  .name('bench')
  .option('--subscribers <n>', 'WebSocket subscribers', '1000')
  .option('--channels <n>', 'channels they spread over', '10')
  .option('--rate <n>', 'deliveries per second of the fixed-rate runs', '25000')
  .option('--seconds <n>', 'measured seconds per run', '5')
  .option('--warmup <n>', 'warm-up seconds before each measured window', '1')
  .option('--rounds <n>', 'fixed-rate rounds (targets alternate within each)', '2')
  .option('--targets <list>', 'eventrelay,floor,socketio', 'eventrelay,floor,socketio')
  .option('--ramp <list>', 'deliveries/s steps of the ramp; "" skips it', '25000,50000,100000')
  .option('--idle <n>', 'idle connections for RSS per connection; 0 skips', '2000')
  .option('--publish-seconds <n>', 'seconds per publish-path run; 0 skips', '3')
  .option('--load-procs <n>', 'subscriber load-generator processes', '1')
  .option('--data-bytes <n>', 'event data size', '100')
  .option('--no-profile', 'skip the CPU profile of the eventrelay client-server')
  .option('--full', 'the complete parameters: 3 rounds of 10 s, 10,000 idle connections, ramp to 400k/s')
  .option('--out <file>', 'report file', 'BENCHMARKS.md');
program.parse();
const opts = program.opts<Record<string, string | boolean>>();
if (opts.full) {
  Object.assign(opts, { seconds: '10', rounds: '3', idle: '10000', ramp: '25000,50000,100000,150000,200000,300000,400000', publishSeconds: '5' });
}
const num = (k: string) => Number(opts[k]);
const targets = list(String(opts.targets)) as Target[];
const base: Omit<LoadOptions, 'deliveriesPerSecond'> = {
  subscribers: num('subscribers'),
  channels: num('channels'),
  seconds: num('seconds'),
  warmupSeconds: num('warmup'),
  loadProcesses: num('loadProcs'),
  dataBytes: num('dataBytes'),
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const describe = (r: LoadResult) =>
  `${r.target.padEnd(10)} ${Math.round(r.achieved).toString().padStart(7)}/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(1)} ms, lost ${r.lost} dup ${r.duplicates} ooo ${r.outOfOrder}, server ${r.cpuPerDelivery.toFixed(2)} µs/delivery (+redis ${r.redisCpuPerDelivery.toFixed(2)}), generator ${r.generatorCpu.toFixed(0)}%` +
  (r.rssPerConnection !== undefined ? `, ${(r.rssPerConnection / 1024).toFixed(1)} KiB/conn` : '');

/** Starts a fresh Redis and target, runs `body`, and tears both down whatever happens. */
async function withTarget<T>(kind: Target, body: (t: RunningTarget, redis: number | undefined) => Promise<T>, profileDir?: string): Promise<T> {
  const redis = await startRedisServer();
  let target: RunningTarget | undefined;
  try {
    target = await startTarget(kind, { redisUrl: redis.url, profileDir });
    return await body(target, redisPid(redis.port));
  } finally {
    await target?.stop();
    await redis.stop();
  }
}

async function main(): Promise<void> {
  const conditions = `load average ${loadAverage()} (1/5/15 min) when the run started; other engineers' test suites may have been running on the same 2 cores`;
  const fixed: LoadResult[] = [];
  for (let round = 1; round <= num('rounds'); round++) {
    for (const kind of targets) {
      const r = await withTarget(kind, (t, redis) => runLoad(t, { ...base, deliveriesPerSecond: num('rate'), redisPid: redis }));
      log(`fixed #${round} ${describe(r)}`);
      fixed.push(r);
    }
  }

  const ramp: LoadResult[] = [];
  const alive = new Set(targets);
  for (const rate of list(String(opts.ramp)).map(Number)) {
    for (const kind of targets) {
      if (!alive.has(kind)) continue;
      const r = await withTarget(kind, (t, redis) => runLoad(t, { ...base, deliveriesPerSecond: rate, redisPid: redis }));
      log(`ramp ${rate}/s ${describe(r)}`);
      ramp.push(r);
      if (!passes(r)) alive.delete(kind);
    }
  }

  const idle: LoadResult[] = [];
  if (num('idle') > 0) {
    for (const kind of targets) {
      const subscribers = num('idle');
      // A trickle (two events per channel per second) after connecting proves every connection still receives.
      const r = await withTarget(kind, (t, redis) =>
        runLoad(t, { ...base, subscribers, seconds: 3, deliveriesPerSecond: (subscribers / base.channels) * base.channels * 2, measureIdleRss: true, redisPid: redis }),
      );
      log(`idle ${describe(r)}`);
      idle.push(r);
    }
  }

  const paths: PublishPathResult[] = [];
  if (num('publishSeconds') > 0 && targets.includes('eventrelay')) {
    for (const mode of ['single', 'batch'] as const) {
      const p = await withTarget('eventrelay', (t) => publishPath(t, mode, num('publishSeconds'), base.dataBytes));
      log(`publish path ${mode}: ${Math.round(p.eventsPerSecond)} events/s (${p.non2xx} non-2xx, ${p.errors} errors)`);
      paths.push(p);
    }
  }

  let profile: HotFunction[] | undefined;
  if (opts.profile !== false && targets.includes('eventrelay')) {
    const dir = mkdtempSync(join(tmpdir(), 'eventrelay-prof-'));
    let clientPid = 0;
    await withTarget('eventrelay', async (t, redis) => {
      clientPid = t.subscriberPid;
      log(`profiled ${describe(await runLoad(t, { ...base, deliveriesPerSecond: num('rate'), redisPid: redis }))}`);
    }, dir);
    const data = readProfile(dir, clientPid);
    profile = data ? summarizeProfile(data) : undefined;
    // Kept outside the repository (megabytes); open it in Chrome DevTools or speedscope.
    log(`CPU profiles of the eventrelay processes kept in ${dir}`);
  }

  const chartFile = 'bench/latency-vs-rate.svg';
  writeFileSync(join(ROOT, chartFile), renderChart(ramp.length ? ramp : fixed));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const markdown = renderMarkdown({
    command,
    date: new Date().toISOString(),
    machine: machineDescription(),
    conditions,
    subscribers: base.subscribers,
    channels: base.channels,
    dataBytes: base.dataBytes,
    fixed,
    ramp,
    idle,
    publishPath: paths,
    profile,
    chartFile,
  });
  writeFileSync(resolve(ROOT, String(opts.out)), markdown);
  log(`wrote ${opts.out} and ${chartFile}`);
}

// An interrupted run still tears down what it started (the 'exit' handlers in lib/targets.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
