// What every section of `npm run bench` gets: the options, a logger line, and
// a way to run a body against a freshly started target on a fresh Redis.
import type { LoadResult } from '../lib/load-run.js';
import type { BenchOptions } from '../lib/options.js';
import type { Target } from '../lib/ipc.js';
import { startRedis } from '../lib/redis-topology.js';
import { startTarget, type RunningTarget, type StartOptions } from '../lib/targets.js';

export interface BenchContext {
  o: BenchOptions;
  machine: string;
  log(line: string): void;
  /** Starts a fresh Redis (of --redis topology) and target, runs `body`, and tears both down whatever happens. */
  withTarget<T>(kind: Target, start: Omit<StartOptions, 'redis'>, body: (t: RunningTarget) => Promise<T>): Promise<T>;
}

/** What a section adds to BENCHMARKS.md, and any file it writes beside it. */
export interface SectionOutput {
  lines: string[];
  files?: { path: string; content: string }[];
}

export function createContext(o: BenchOptions, machine: string): BenchContext {
  return {
    o,
    machine,
    log: (line) => process.stderr.write(`${line}\n`),
    async withTarget(kind, start, body) {
      const redis = await startRedis(o.redis);
      let target: RunningTarget | undefined;
      try {
        target = await startTarget(kind, { ...start, redis });
        return await body(target);
      } finally {
        await target?.stop();
        await redis.stop();
      }
    },
  };
}

/** One line for the console while a section runs. */
export function describe(r: LoadResult): string {
  return (
    `${r.target.padEnd(12)} ${Math.round(r.achieved).toString().padStart(7)}/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(1)} ms, ` +
    `lost ${r.lost} dup ${r.duplicates} ooo ${r.outOfOrder}${r.corrupt ? ` corrupt ${r.corrupt}` : ''}, ` +
    `server ${r.cpuPerDelivery.toFixed(2)} µs/delivery (subscriber side ${r.subscriberCpuPerDelivery?.toFixed(2) ?? '–'}, +redis ${r.redisCpuPerDelivery.toFixed(2)}), generator ${r.generatorCpu.toFixed(0)}%` +
    (r.bytesPerDelivery !== undefined ? `, ${r.bytesPerDelivery.toFixed(0)} B/delivery` : '') +
    (r.rssPerConnection !== undefined ? `, ${(r.rssPerConnection / 1024).toFixed(1)} KiB/conn` : '')
  );
}
