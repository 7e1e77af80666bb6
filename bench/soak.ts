// `npm run soak`: eventrelay under moderate load with churn for 30 minutes
// (--minutes), sampling the client-server's RSS, heap and event-loop delay
// (its /metrics) and the delivery p99, and checking every delivery (see
// soak/driver.ts). Writes its block of BENCHMARKS.md and bench/soak.svg.
// Not in CI: it takes half an hour and both cores.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { forkChild, nextMessage } from './lib/children.js';
import { conditionsNow } from './lib/format.js';
import { machineDescription } from './lib/proc.js';
import { REDIS_TOPOLOGIES, startRedis, type RedisTopology } from './lib/redis-topology.js';
import { ROOT, startTarget } from './lib/targets.js';
import type { FromDriver, SoakFinal, SoakJob, SoakSample } from './soak/ipc.js';
import { replaceBlock } from './soak/markdown.js';
import { scrape } from './soak/metrics.js';
import { renderSoakChart, type SoakPoint } from './soak/plot.js';
import { renderSoak, soakPassed } from './soak/report.js';

const CHART_FILE = 'bench/soak.svg';
const MiB = 2 ** 20;

const program = new Command()
  .name('soak')
  .option('--minutes <n>', 'how long', '30')
  .option('--warmup-minutes <n>', 'growth is measured from here (default: a sixth of the run, at most 5)')
  .option('--sample-seconds <n>', 'sampling period', '10')
  .option('--subscribers <n>', 'WebSocket subscribers', '400')
  .option('--channels <n>', 'channels', '200')
  .option('--per-subscriber <n>', 'channels each subscriber holds', '5')
  .option('--rate <n>', 'publishes per second over all channels', '400')
  .option('--data-bytes <n>', 'event data size', '200')
  .option('--churn <n>', 'churn actions per second', '5')
  .option('--slow-every <n>', 'seconds between slow-consumer episodes', '60')
  .addOption(new Option('--redis <topology>', 'Redis under eventrelay').choices(REDIS_TOPOLOGIES).default('single'))
  .option('--out <file>', 'report file (its soak block is replaced)', 'BENCHMARKS.md');
program.parse();
const o = program.opts<Record<string, string>>();
const minutes = Number(o.minutes);
const warmupMinutes = o.warmupMinutes !== undefined ? Number(o.warmupMinutes) : Math.min(5, Math.round((minutes / 6) * 10) / 10);
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const conditions = conditionsNow(machineDescription());
  const date = new Date().toISOString();
  const redis = await startRedis(o.redis as RedisTopology);
  const target = await startTarget('eventrelay', { redis });
  const points: SoakPoint[] = [];
  let final: SoakFinal;
  const job: SoakJob = {
    url: target.subscribeUrls[0]!, publishUrl: target.publishUrl, key: target.key!, token: target.token!,
    subscribers: Number(o.subscribers), channels: Number(o.channels), perSubscriber: Number(o.perSubscriber),
    rate: Number(o.rate), dataBytes: Number(o.dataBytes), churnPerSecond: Number(o.churn), slowEverySeconds: Number(o.slowEvery),
  };
  try {
    const driver = forkChild('bench/soak/driver.ts', job);
    await nextMessage(driver, 'ready');
    const started = performance.now();
    await scrape(target.metricsUrls[0]!); // resets the event-loop histogram: the first sample covers its own period only
    for (;;) {
      await new Promise((r) => setTimeout(r, Number(o.sampleSeconds) * 1000));
      const m = await scrape(target.metricsUrls[0]!);
      const sample = nextMessage<FromDriver>(driver, 'sample') as Promise<SoakSample>;
      driver.send({ cmd: 'sample' });
      const s = await sample;
      const point: SoakPoint = { minutes: (performance.now() - started) / 60_000, rssMiB: m.rssBytes / MiB, heapMiB: m.heapUsedBytes / MiB, eventLoopP99Ms: m.eventLoopP99Ms, deliveryP99Ms: s.p99Ms };
      points.push(point);
      const c = s.counters;
      log(`soak ${point.minutes.toFixed(1)} min: rss ${point.rssMiB.toFixed(1)} MiB heap ${point.heapMiB.toFixed(1)} MiB loop p99 ${m.eventLoopP99Ms.toFixed(1)} ms, ${Math.round(s.deliveries / Number(o.sampleSeconds))} deliveries/s p99 ${s.p99Ms.toFixed(1)} ms, ${s.openConnections} open; lost ${c.lost} dup ${c.duplicates} ooo ${c.outOfOrder} idmis ${c.idMismatch} unexpected ${c.unexpected} errors ${c.serverErrors}; resumes ${c.resumes} 4008 ${c.slowConsumerCloses}`);
      if (point.minutes >= minutes) break;
    }
    const finished = nextMessage<FromDriver>(driver, 'final') as Promise<SoakFinal>;
    driver.send({ cmd: 'stop' });
    final = await finished;
  } finally {
    await target.stop();
    await redis.stop();
  }
  const outFile = resolve(ROOT, o.out!);
  const chartPath = join(dirname(outFile), CHART_FILE);
  mkdirSync(dirname(chartPath), { recursive: true });
  writeFileSync(chartPath, renderSoakChart(points, warmupMinutes));
  const command = `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const { url: _u, publishUrl: _p, key: _k, token: _t, ...shown } = job;
  const report = { command, date, conditions, job: shown, minutes, warmupMinutes, points, counters: final.counters, subscriptionsChecked: final.subscriptionsChecked, chartFile: CHART_FILE };
  const block = renderSoak(report);
  writeFileSync(outFile, replaceBlock(existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmarks\n', block));
  log(`wrote ${o.out} and ${CHART_FILE}: ${soakPassed(report) ? 'passed' : 'FAILED'}`);
  process.exitCode = soakPassed(report) ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    log(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
