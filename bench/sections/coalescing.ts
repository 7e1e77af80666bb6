// Write coalescing: many channels per socket, so that each socket gets a
// steady stream of small events (~200/s) from many channels: the case where
// writing each event to each socket at once costs a syscall per delivery.
// eventrelay runs with WRITE_DELAY_MS=0 and =20 (each is passed to the
// client-server whether or not this build reads it), the floor in the same load.
import { conditionsLine, conditionsNow, fmt, kfmt, ratioAgainst } from '../lib/format.js';
import { runLoad, type LoadResult } from '../lib/load-run.js';
import { describe, type BenchContext, type SectionOutput } from './context.js';

/** Channels each socket holds, and the per-socket event rate the issue asks for. */
export const CHANNELS_PER_SOCKET = 20;
export const EVENTS_PER_SOCKET = 200;
/** Channels in all: with 20 per socket, each channel has subscribers × 20 / 100 holders. */
const CHANNELS = 100;
/** Issue #14's targets: subscriber-side CPU per delivery ÷ the floor's, by WRITE_DELAY_MS. */
const TARGET_RATIO: Record<number, number> = { 0: 0.7, 20: 0.3 };

export async function coalescingSection(ctx: BenchContext): Promise<SectionOutput> {
  const { o, log } = ctx;
  const conditions = conditionsNow(ctx.machine);
  const base = {
    subscribers: o.coalescingSubscribers, channels: CHANNELS, perSubscriber: CHANNELS_PER_SOCKET,
    deliveriesPerSecond: o.coalescingSubscribers * EVENTS_PER_SOCKET, seconds: o.seconds, warmupSeconds: o.warmup,
    loadProcesses: Math.max(o.loadProcs, 2), dataBytes: o.dataBytes,
  };
  const rows: { delay?: number; r: LoadResult }[] = [];
  if (o.targets.includes('floor')) {
    const r = await ctx.withTarget('floor', {}, (t) => runLoad(t, { ...base, label: 'floor' }));
    log(`coalescing ${describe(r)}`);
    rows.push({ r });
  }
  if (o.targets.includes('eventrelay')) {
    for (const delay of o.writeDelays) {
      const label = `eventrelay WRITE_DELAY_MS=${delay}`;
      const r = await ctx.withTarget('eventrelay', { env: { WRITE_DELAY_MS: String(delay) } }, (t) => runLoad(t, { ...base, label }));
      log(`coalescing ${describe(r)}`);
      rows.push({ delay, r });
    }
  }
  const floor = rows.find((x) => x.delay === undefined)?.r;
  const lines = [
    '',
    '## Write coalescing: 20 channels per socket, ~200 events/s per socket',
    '',
    conditionsLine(conditions),
    '',
    `${kfmt(o.coalescingSubscribers)} WebSocket subscribers, each holding ${CHANNELS_PER_SOCKET} of ${CHANNELS} channels; ${o.dataBytes}-byte events at ${kfmt(base.deliveriesPerSecond / ((o.coalescingSubscribers * CHANNELS_PER_SOCKET) / CHANNELS))} publishes/s, so each socket receives ~${EVENTS_PER_SOCKET} events/s. eventrelay's client-server gets \`WRITE_DELAY_MS\`; latency includes that delay.`,
    '',
    '| target | deliveries/s | p50 ms | p99 ms | max ms | lost+dup+reordered | subscriber-side µs/delivery | ÷ floor | all relay processes µs/delivery | + redis µs/delivery | generator CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(({ delay, r }) => {
      const vsFloor = delay === undefined ? '1.00×' : ratioAgainst(r.subscriberCpuPerDelivery, floor?.subscriberCpuPerDelivery, TARGET_RATIO[delay] ?? 1);
      return `| ${r.target} | ${kfmt(r.achieved)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ${r.lost + r.duplicates + r.outOfOrder} | ${fmt(r.subscriberCpuPerDelivery, 2)} | ${vsFloor} | ${fmt(r.cpuPerDelivery, 2)} | ${fmt(r.redisCpuPerDelivery, 2)} | ${fmt(r.generatorCpu, 0)} |`;
    }),
    '',
    '"Subscriber-side" is the process holding the sockets (client-server; the floor\'s ws server), the part write coalescing changes; "all relay processes" adds the publishing side, the same work per event for every row. Targets (issue #14): ≤ 0.70× the floor at WRITE_DELAY_MS=0, ≤ 0.30× at 20.',
  ];
  return { lines };
}
