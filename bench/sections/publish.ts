// Publish path: what one publish costs the publishing process, next to the
// floor's publisher (node:http → one Redis PUBLISH), at a moderate fixed rate
// (fixed per-process costs weigh in: timers, canary, metrics) and at
// saturation (autocannon, 50 connections); plus eventrelay's batch endpoint.
import { conditionsLine, conditionsNow, fmt, kfmt, ratio } from '../lib/format.js';
import { publishAtRate, publishPath, type PublishPathResult } from '../lib/publish-path.js';
import type { BenchContext, SectionOutput } from './context.js';

const PUBLISH_TARGETS = ['eventrelay', 'floor'] as const;

export async function publishSection(ctx: BenchContext): Promise<SectionOutput> {
  const { o, log } = ctx;
  const conditions = conditionsNow(ctx.machine);
  const rows: PublishPathResult[] = [];
  const kinds = PUBLISH_TARGETS.filter((k) => o.targets.includes(k));
  for (const kind of kinds) {
    const r = await ctx.withTarget(kind, {}, (t) => publishAtRate(t, o.publishRate, o.publishSeconds, o.dataBytes));
    log(`publish ${kind} at ${o.publishRate}/s: ${fmt(r.cpuPerPublish, 1)} µs/publish (+redis ${fmt(r.redisCpuPerPublish, 1)})`);
    rows.push(r);
  }
  for (const kind of kinds) {
    const r = await ctx.withTarget(kind, {}, (t) => publishPath(t, 'single', o.publishSeconds, o.dataBytes));
    log(`publish ${kind} saturated: ${Math.round(r.eventsPerSecond)}/s, ${fmt(r.cpuPerPublish, 1)} µs/publish, ${r.non2xx} non-2xx`);
    rows.push(r);
  }
  if (kinds.includes('eventrelay')) {
    const r = await ctx.withTarget('eventrelay', {}, (t) => publishPath(t, 'batch', o.publishSeconds, o.dataBytes));
    log(`publish eventrelay batch: ${Math.round(r.eventsPerSecond)} events/s, ${fmt(r.cpuPerPublish, 2)} µs/event`);
    rows.push(r);
  }
  const find = (target: string, mode: string) => rows.find((r) => r.target === target && r.mode === mode);
  const label = (r: PublishPathResult) =>
    r.mode === 'fixed' ? `${kfmt(o.publishRate)}/s, one request per event` : r.mode === 'single' ? `saturation, ${r.connections} connections` : `batches of 100, ${r.connections} connections`;
  const lines = [
    '',
    '## Publish path: CPU per publish',
    '',
    conditionsLine(conditions),
    '',
    `Nobody subscribed; ${o.dataBytes}-byte events over HTTP. The fixed rate is sent by bench/load/publisher.ts (one request in flight per channel, 10 channels), saturation by autocannon. CPU is user+system time from /proc of the publishing process alone (source-server; the floor's bench/peers/floor-publisher.ts), and of Redis, per accepted event.`,
    '',
    '| target | load | events/s | publisher µs/publish | redis µs/publish | publisher CPU % | p99 ms | non-2xx | errors |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${label(r)} | ${kfmt(r.eventsPerSecond)} | ${fmt(r.cpuPerPublish, 1)} | ${fmt(r.redisCpuPerPublish, 1)} | ${fmt(r.publisherCpu, 0)} | ${fmt(r.p99Ms, 0)} | ${r.non2xx} | ${r.errors} |`,
    ),
    '',
    `eventrelay ÷ floor, publisher CPU per publish: ${ratio(find('eventrelay', 'fixed')?.cpuPerPublish, find('floor', 'fixed')?.cpuPerPublish)} at ${kfmt(o.publishRate)}/s, ${ratio(find('eventrelay', 'single')?.cpuPerPublish, find('floor', 'single')?.cpuPerPublish)} at saturation; saturated throughput ${ratio(find('eventrelay', 'single')?.eventsPerSecond, find('floor', 'single')?.eventsPerSecond)}. (eventrelay stores each event in a Redis stream before it answers; the floor only PUBLISHes.)`,
  ];
  return { lines };
}
