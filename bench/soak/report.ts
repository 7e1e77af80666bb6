// The soak's section of BENCHMARKS.md: conditions, the checks, growth after
// warm-up and the chart.
import { conditionsLine, fmt, kfmt, type TableConditions } from '../lib/format.js';
import type { SoakCounters, SoakJob } from './ipc.js';
import { SOAK_END, SOAK_START } from './markdown.js';
import type { SoakPoint } from './plot.js';

/** Issue #14: RSS and heap may grow less than this after warm-up. */
export const MAX_GROWTH = 0.05;
/** Share of the post-warm-up samples averaged at each end: one sample is too noisy (GC timing). */
const END_WINDOW = 0.1;

export interface Growth {
  start: number;
  end: number;
  /** (end − start) ÷ start. */
  growth: number;
}

/** Mean of the first and of the last tenth of the samples after warm-up, and their relative difference. */
export function growthAfterWarmup(points: readonly SoakPoint[], warmupMinutes: number, key: keyof SoakPoint): Growth {
  const after = points.filter((p) => p.minutes >= warmupMinutes);
  const n = Math.max(1, Math.floor(after.length * END_WINDOW));
  const mean = (xs: readonly SoakPoint[]) => xs.reduce((s, p) => s + p[key], 0) / Math.max(1, xs.length);
  const start = mean(after.slice(0, n));
  const end = mean(after.slice(-n));
  return { start, end, growth: start > 0 ? (end - start) / start : NaN };
}

export interface SoakReport {
  command: string;
  date: string;
  conditions: TableConditions;
  job: Omit<SoakJob, 'url' | 'publishUrl' | 'key' | 'token'>;
  minutes: number;
  warmupMinutes: number;
  points: SoakPoint[];
  counters: SoakCounters;
  subscriptionsChecked: number;
  chartFile: string;
}

const CHECKS: (keyof SoakCounters)[] = ['lost', 'duplicates', 'outOfOrder', 'idNotIncreasing', 'idMismatch', 'unexpected', 'unrecovered', 'serverErrors'];

export function soakPassed(r: SoakReport): boolean {
  const grows = ['rssMiB', 'heapMiB'] as const;
  return CHECKS.every((k) => r.counters[k] === 0) && grows.every((k) => growthAfterWarmup(r.points, r.warmupMinutes, k).growth < MAX_GROWTH);
}

export function renderSoak(r: SoakReport): string {
  const { job, counters: c } = r;
  const pct = (g: Growth) => `${fmt(g.growth * 100, 1)} % (${r.warmupMinutes} min: ${fmt(g.start, 1)} → end: ${fmt(g.end, 1)})`;
  const growth = (key: keyof SoakPoint) => growthAfterWarmup(r.points, r.warmupMinutes, key);
  const rss = growth('rssMiB');
  const heap = growth('heapMiB');
  const verdict = (g: Growth) => (g.growth < MAX_GROWTH ? 'met' : 'not met');
  const lines = [
    SOAK_START,
    '## Soak',
    '',
    conditionsLine(r.conditions),
    '',
    `- Command: \`${r.command}\`; started ${r.date}; ${fmt(r.minutes, 1)} minutes, warm-up ${r.warmupMinutes} min.`,
    `- Load: one source-server and one client-server on one Redis; ${kfmt(job.subscribers)} WebSocket subscribers × ${job.perSubscriber} of ${kfmt(job.channels)} channels; ${kfmt(job.rate)} publishes/s of ${job.dataBytes}-byte events; churn ${job.churnPerSecond}/s (unsubscribe + resume with since, unsubscribe + fresh subscribe, drop + resume, fresh reconnect); one subscriber stops reading for 10–40 s every ${job.slowEverySeconds} s.`,
    `- Checks (all must be 0): lost ${c.lost}, duplicates ${c.duplicates}, out of order ${c.outOfOrder}, ids not increasing ${c.idNotIncreasing}, id ≠ published id ${c.idMismatch}, events outside a subscription ${c.unexpected}, resumes not recovered ${c.unrecovered}, server errors ${c.serverErrors}; ${kfmt(r.subscriptionsChecked)} subscriptions checked at the end against the last accepted event of their channel.`,
    `- Happened: ${kfmt(c.published)} events published (${kfmt(c.publishFailed)} refused and resent), ${kfmt(c.delivered)} delivered; ${kfmt(c.connects)} connects, ${kfmt(c.resumes)} resumes with since, ${kfmt(c.freshSubscribes)} fresh subscribes, ${kfmt(c.unsubscribes)} unsubscribes; ${c.slowConsumerEpisodes} slow-consumer episodes, ${c.slowConsumerCloses} closed with 4008, ${c.serverCloses} other server closes.`,
    '',
    '| after warm-up | growth | target < 5 % |',
    '|---|---|---|',
    `| client-server RSS, MiB | ${pct(rss)} | ${verdict(rss)} |`,
    `| client-server heap used, MiB | ${pct(heap)} | ${verdict(heap)} |`,
    '',
    `Event-loop delay p99 (prom-client, per sample): median ${fmt(medianOf(r.points, 'eventLoopP99Ms'), 1)} ms, max ${fmt(maxOf(r.points, 'eventLoopP99Ms'), 1)} ms. Delivery p99 per sample: median ${fmt(medianOf(r.points, 'deliveryP99Ms'), 1)} ms, max ${fmt(maxOf(r.points, 'deliveryP99Ms'), 1)} ms. Samples from the client-server's /metrics every ${fmt((r.minutes * 60) / Math.max(1, r.points.length), 0)} s.`,
    '',
    `![client-server RSS, heap, event-loop delay and delivery p99 over the soak](${r.chartFile})`,
    SOAK_END,
  ];
  return lines.join('\n');
}

function medianOf(points: readonly SoakPoint[], key: keyof SoakPoint): number {
  const xs = points.map((p) => p[key]).sort((a, b) => a - b);
  return xs.length ? xs[xs.length >> 1]! : NaN;
}
const maxOf = (points: readonly SoakPoint[], key: keyof SoakPoint) => Math.max(...points.map((p) => p[key]));
