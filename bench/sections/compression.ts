// Compression: 1 KiB order objects (compressible, like real feeds) to
// sockets that offer permessage-deflate with no context takeover on either
// side. eventrelay with WS_COMPRESSION=on (compress once per event, the
// issue's plan) against eventrelay uncompressed, the floor with ws's
// per-socket perMessageDeflate, and Socket.IO with compression on. Every
// event is checked to inflate to exactly the JSON that was published.
import { conditionsLine, conditionsNow, fmt, kfmt, kib, ratio, ratioAgainst } from '../lib/format.js';
import type { Target } from '../lib/ipc.js';
import { runLoad, type LoadResult } from '../lib/load-run.js';
import type { StartOptions } from '../lib/targets.js';
import { describe, type BenchContext, type SectionOutput } from './context.js';

const CHANNELS = 10;
/** Issue #14's targets for eventrelay WS_COMPRESSION=on against eventrelay uncompressed. */
const MAX_BYTES_RATIO = 0.35;
const MAX_CPU_RATIO = 1.2;

interface Variant {
  label: string;
  kind: Target;
  start: Omit<StartOptions, 'redis'>;
  deflate: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'eventrelay uncompressed', kind: 'eventrelay', start: { env: { WS_COMPRESSION: 'off' } }, deflate: false },
  { label: 'eventrelay WS_COMPRESSION=on', kind: 'eventrelay', start: { env: { WS_COMPRESSION: 'on' } }, deflate: true },
  { label: 'floor perMessageDeflate', kind: 'floor', start: { peerDeflate: true }, deflate: true },
  { label: 'socketio perMessageDeflate', kind: 'socketio', start: { peerDeflate: true }, deflate: true },
];

export async function compressionSection(ctx: BenchContext): Promise<SectionOutput> {
  const { o, log } = ctx;
  const conditions = conditionsNow(ctx.machine);
  const base = {
    subscribers: o.compressionSubscribers, channels: CHANNELS, deliveriesPerSecond: o.compressionRate, seconds: o.seconds,
    warmupSeconds: o.warmup, loadProcesses: Math.max(o.loadProcs, 2), dataBytes: o.compressionBytes, payload: 'order' as const, verify: true,
  };
  const rows: LoadResult[] = [];
  for (const v of VARIANTS.filter((x) => o.targets.includes(x.kind))) {
    const r = await ctx.withTarget(v.kind, v.start, (t) => runLoad(t, { ...base, deflate: v.deflate, label: v.label }));
    log(`compression ${describe(r)}, deflate negotiated on ${r.deflated}/${r.subscribers}`);
    rows.push(r);
  }
  const plain = rows.find((r) => r.target === VARIANTS[0]!.label);
  const ours = rows.find((r) => r.target === VARIANTS[1]!.label);
  const lines = [
    '',
    '## Compression: 1 KiB JSON events, permessage-deflate',
    '',
    conditionsLine(conditions),
    '',
    `${kfmt(o.compressionSubscribers)} WebSocket subscribers over ${CHANNELS} channels, ${kfmt(o.compressionRate)} deliveries/s of ${o.compressionBytes}-byte order objects (repeated keys, decimal strings, ISO times). Clients offer permessage-deflate with server_no_context_takeover and client_no_context_takeover (not the uncompressed row). Bytes are what the subscribers' TCP sockets read (socket.bytesRead, summed over the window), per delivery; every event is rebuilt from its sequence number and compared byte for byte with what arrived after inflating ("corrupt").`,
    '',
    '| target | deflate negotiated | deliveries/s | bytes/delivery | ÷ uncompressed | server µs/delivery | ÷ uncompressed | RSS/connection under load | p50 ms | p99 ms | missing+dup+reordered | corrupt | generator CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      // A verdict only where compression was actually negotiated: an uncompressed build trivially "meets" the CPU limit.
      const isOurs = r === ours && (r.deflated ?? 0) > 0;
      const bytes = isOurs ? ratioAgainst(r.bytesPerDelivery, plain?.bytesPerDelivery, MAX_BYTES_RATIO) : ratio(r.bytesPerDelivery, plain?.bytesPerDelivery);
      const cpu = isOurs ? ratioAgainst(r.cpuPerDelivery, plain?.cpuPerDelivery, MAX_CPU_RATIO) : ratio(r.cpuPerDelivery, plain?.cpuPerDelivery);
      return `| ${r.target} | ${r.deflated ?? 0}/${r.subscribers} | ${kfmt(r.achieved)} | ${fmt(r.bytesPerDelivery, 0)} | ${bytes} | ${fmt(r.cpuPerDelivery, 2)} | ${cpu} | ${kib(r.loadedRssPerConnection)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.lost + r.duplicates + r.outOfOrder} | ${r.corrupt ?? 0} | ${fmt(r.generatorCpu, 0)} |`;
    }),
    '',
    `"Server µs/delivery" is all the relay's processes (publishing and subscriber side). "RSS/connection under load" is the subscriber-side process's RSS at the end of the window minus before connecting, per connection (zlib state is per socket with ws's perMessageDeflate). Targets (issue #14) for WS_COMPRESSION=on: bytes ≤ ${MAX_BYTES_RATIO}× and CPU ≤ ${MAX_CPU_RATIO}× of uncompressed. A row with "0/N" negotiated sent no compressed frame: its build does not compress yet. "Missing" counts events not received 5 s after publishing stopped: a target that cannot keep up shows here, not as loss.`,
  ];
  return { lines };
}
