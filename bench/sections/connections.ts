// Connections at scale: ~19,000 subscribers on one subscriber-side process
// (every target), and 50,000 over three client-servers on one Redis
// (eventrelay, and the floor the same way). Idle RSS per connection, connect
// rate, and single events broadcast to everyone; then a projection toward
// 1M connections across a deployment.
import { readFileSync } from 'node:fs';
import { conditionsLine, conditionsNow, fmt, kfmt, kib, median, ratioAgainst, type TableConditions } from '../lib/format.js';
import type { Target } from '../lib/ipc.js';
import { CONNECTIONS_PER_PROCESS, SETTLE_MS, runConnections, type ConnectionsResult } from '../lib/connections-run.js';
import type { BenchContext, SectionOutput } from './context.js';

/** Issue #14: eventrelay's idle RSS per connection ÷ the floor's at the same count. */
const MAX_RSS_RATIO = 0.8;
const WIDE_TARGETS: readonly Target[] = ['eventrelay', 'floor'];
/** The one-process run: every target that connects plain subscribers (the Pusher endpoint is measured in the broadcast section). */
const ONE_PROCESS_TARGETS: readonly Target[] = ['eventrelay', 'floor', 'socketio'];
/** Open files one process may have here (and cannot raise): what caps one client-server. */
const OPEN_FILES_LIMIT = 20_000;
const MILLION = 1_000_000;

export async function connectionsSection(ctx: BenchContext): Promise<SectionOutput> {
  const { o, log } = ctx;
  const runs: { conditions: TableConditions; rows: ConnectionsResult[] }[] = [];
  const plans: { count: number; servers: number; targets: readonly Target[] }[] = [];
  if (o.connections > 0) plans.push({ count: o.connections, servers: 1, targets: ONE_PROCESS_TARGETS.filter((t) => o.targets.includes(t)) });
  if (o.connectionsWide > 0) plans.push({ count: o.connectionsWide, servers: o.wideServers, targets: WIDE_TARGETS.filter((t) => o.targets.includes(t)) });
  for (const plan of plans) {
    const conditions = conditionsNow(ctx.machine);
    const rows: ConnectionsResult[] = [];
    for (const kind of plan.targets) {
      const r = await ctx.withTarget(kind, { servers: plan.servers }, (t) => runConnections(t, plan.count, o.broadcasts));
      const worst = Math.max(...r.broadcasts.map((b) => b.lastMs));
      log(`connections ${kind} ${r.connections} on ${r.servers}: ${Math.round(r.connectPerSecond)} conn/s, ${(r.idleRssPerConnection / 1024).toFixed(1)} KiB/conn idle, broadcast last ${worst.toFixed(0)} ms, lost ${r.lost} dup ${r.duplicates} disconnects ${r.disconnects}`);
      rows.push(r);
    }
    runs.push({ conditions, rows });
  }
  const lines: string[] = ['', '## Connections: idle memory, connect rate, one event to everyone', ''];
  lines.push(
    `Subscribers each hold one channel (all the same one), spread over load processes of at most ${kfmt(CONNECTIONS_PER_PROCESS)} connections, each process bound to its own source address (127.0.0.2, .3, …) because one address has only ${ephemeralPorts()} ephemeral ports. Connect rate: connections (WebSocket upgrade + subscribe answered) over the time from the first attempt to the last \`subscribed\`, 200 in flight at once. Idle RSS: subscriber-side processes' RSS ${SETTLE_MS / 1000} s after the last connect minus before the first, per connection. Broadcasts: ${o.broadcasts} single events to everyone, one after the other; times are from the publish request to each receipt, medians over the broadcasts (worst: the largest "last" of all).`,
  );
  for (const { conditions, rows } of runs) {
    const floor = rows.find((r) => r.target === 'floor');
    lines.push('', `### ${kfmt(rows[0]?.connections)} connections on ${rows[0]?.servers} subscriber-side process${rows[0]?.servers === 1 ? '' : 'es'}`, '', conditionsLine(conditions), '');
    lines.push('| target | connections | load processes | connect/s | idle RSS/connection | ÷ floor | first ms | p50 ms | p99 ms | last ms | worst last ms | server µs/delivery | lost+dup | disconnects |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const m = (f: (b: ConnectionsResult['broadcasts'][number]) => number) => median(r.broadcasts.map(f));
      const vsFloor = r.target === 'eventrelay' ? ratioAgainst(r.idleRssPerConnection, floor?.idleRssPerConnection, MAX_RSS_RATIO) : r.target === 'floor' ? '1.00×' : fmt(floor ? r.idleRssPerConnection / floor.idleRssPerConnection : NaN, 2) + '×';
      lines.push(
        `| ${r.target} | ${kfmt(r.connections)} | ${r.loadProcesses} | ${kfmt(r.connectPerSecond)} | ${kib(r.idleRssPerConnection)} | ${vsFloor} | ${fmt(m((b) => b.firstMs), 1)} | ${fmt(m((b) => b.p50Ms), 1)} | ${fmt(m((b) => b.p99Ms), 1)} | ${fmt(m((b) => b.lastMs), 1)} | ${fmt(Math.max(...r.broadcasts.map((b) => b.lastMs)), 1)} | ${fmt(r.cpuPerDelivery, 2)} | ${r.lost + r.duplicates} | ${r.disconnects} |`,
      );
    }
  }
  const ours = runs.flatMap((x) => x.rows).filter((r) => r.target === 'eventrelay').sort((a, b) => b.connections / b.servers - a.connections / a.servers)[0];
  if (ours) lines.push('', ...projection(ours));
  return { lines };
}

/** What the measured figures say about one pod and about 1M connections across a deployment. */
function projection(r: ConnectionsResult): string[] {
  const perProcess = r.connections / r.servers;
  const capByFiles = OPEN_FILES_LIMIT - 1000;
  const podRss = r.baseRss + capByFiles * r.idleRssPerConnection;
  const pods = Math.ceil(MILLION / capByFiles);
  const lastMs = median(r.broadcasts.map((b) => b.lastMs));
  const reconnectSeconds = capByFiles / (r.connectPerSecond / r.servers);
  return [
    '### Projection toward 1M connections',
    '',
    `From eventrelay's run with the most connections per process (${kfmt(perProcess)} per client-server): idle cost ${kib(r.idleRssPerConnection)} per connection on top of ${fmt(r.baseRss / 2 ** 20, 0)} MiB per process. ` +
      `One client-server process is capped by its open files (${kfmt(OPEN_FILES_LIMIT)} here, so ~${kfmt(capByFiles)} connections), which then take ~${fmt(podRss / 2 ** 20, 0)} MiB of RSS; ` +
      `1M connections need ${kfmt(pods)} such pods, ~${fmt((pods * podRss) / 2 ** 30, 1)} GiB of RSS in all, and Redis sends each event once per pod (${kfmt(pods)} pub/sub deliveries, not 1M). ` +
      `A broadcast reaches a pod's last subscriber in ~${fmt(lastMs, 0)} ms here at ${kfmt(perProcess)} per process, and pods fan out in parallel; ` +
      `after a deployment-wide restart each pod takes its ~${kfmt(capByFiles)} connections back in ~${fmt(reconnectSeconds, 0)} s at the rate measured here (${kfmt(r.connectPerSecond / r.servers)}/s per client-server; a lower bound of the real rate, as the load generators took most of the 2 shared cores). ` +
      'Where a pod may hold more open files, memory is the next limit: divide the pod\'s memory budget less the base by the per-connection figure. Projections assume idle connections; per-delivery CPU (the broadcast section) decides how many of them can be busy.',
  ];
}

/** The size of this machine's ephemeral port range (per source address and destination). */
function ephemeralPorts(): string {
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return lo !== undefined && hi !== undefined ? kfmt(hi - lo + 1) : '?';
}
