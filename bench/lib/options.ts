// `npm run bench` options: a quick default (≤ 5 minutes on this machine) and
// `--full`, which sets the issue's complete parameters. Explicit flags win over both.
import { Command, Option } from 'commander';
import type { Target } from './ipc.js';
import { REDIS_TOPOLOGIES, type RedisTopology } from './redis-topology.js';

export const SECTIONS = ['broadcast', 'publish', 'coalescing', 'compression', 'connections'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  only: SectionName[];
  full: boolean;
  redis: RedisTopology;
  targets: Target[];
  out: string;
  seconds: number;
  warmup: number;
  loadProcs: number;
  // broadcast
  subscribers: number;
  channels: number;
  rate: number;
  rounds: number;
  ramp: number[];
  idle: number;
  dataBytes: number;
  profile: boolean;
  // publish
  publishSeconds: number;
  publishRate: number;
  // coalescing
  coalescingSubscribers: number;
  writeDelays: number[];
  // compression
  compressionSubscribers: number;
  compressionRate: number;
  compressionBytes: number;
  // connections
  connections: number;
  connectionsWide: number;
  wideServers: number;
  broadcasts: number;
}

const FULL: Record<string, string> = {
  seconds: '10', rounds: '3', ramp: '25000,50000,100000,150000,200000,300000,400000', publishSeconds: '10',
  coalescingSubscribers: '500', compressionSubscribers: '1000', compressionRate: '10000',
  connections: '19000', connectionsWide: '50000', broadcasts: '10',
};

const list = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);

export function parseOptions(argv: string[]): BenchOptions {
  const program = new Command()
    .name('bench')
    .option('--only <sections>', `comma-separated subset of ${SECTIONS.join(',')}`, SECTIONS.join(','))
    .option('--full', 'the issue\'s complete parameters (19,000 and 50,000 connections, ramp to 400k/s, 3 rounds of 10 s, …)')
    .addOption(new Option('--redis <topology>', 'Redis under every target (cluster: issue #12, not yet)').choices(REDIS_TOPOLOGIES).default('single'))
    .option('--targets <list>', 'eventrelay,floor,socketio (pusher: eventrelay through its Pusher endpoint and HTTP API; broadcast section)', 'eventrelay,floor,socketio')
    .option('--out <file>', 'report file', 'BENCHMARKS.md')
    .option('--seconds <n>', 'measured seconds per run', '5')
    .option('--warmup <n>', 'warm-up seconds before each measured window', '1')
    .option('--load-procs <n>', 'subscriber load-generator processes for the rate runs', '1')
    .option('--subscribers <n>', 'broadcast: WebSocket subscribers', '1000')
    .option('--channels <n>', 'broadcast: channels they spread over', '10')
    .option('--rate <n>', 'broadcast: deliveries per second of the fixed-rate runs', '25000')
    .option('--rounds <n>', 'broadcast: fixed-rate rounds (targets alternate within each; the ramp repeats the rate once more)', '1')
    .option('--ramp <list>', 'broadcast: deliveries/s steps of the ramp (the fixed rate is its first step); "" skips it', '50000,100000')
    .option('--idle <n>', 'broadcast: idle connections for RSS per connection (the connections section measures more); 0 skips', '0')
    .option('--data-bytes <n>', 'broadcast: event data size', '100')
    .option('--no-profile', 'broadcast: skip the CPU profile of the eventrelay client-server')
    .option('--publish-seconds <n>', 'publish: seconds per run', '3')
    .option('--publish-rate <n>', 'publish: the moderate fixed rate, events/s', '250')
    .option('--coalescing-subscribers <n>', 'coalescing: sockets, each holding 20 channels at ~200 events/s', '200')
    .option('--write-delays <list>', 'coalescing: WRITE_DELAY_MS values for eventrelay', '0,20')
    .option('--compression-subscribers <n>', 'compression: sockets', '500')
    .option('--compression-rate <n>', 'compression: deliveries per second (per-socket deflate must keep up)', '5000')
    .option('--compression-bytes <n>', 'compression: event data size (an order object)', '1024')
    .option('--connections <n>', 'connections: subscribers on one subscriber-side process, every target; 0 skips', '2000')
    .option('--connections-wide <n>', 'connections: subscribers spread over --wide-servers processes (eventrelay, floor); 0 skips', '3000')
    .option('--wide-servers <n>', 'connections: client-servers of the wide run', '3')
    .option('--broadcasts <n>', 'connections: events broadcast to every subscriber', '5');
  program.parse(argv);
  const raw = program.opts<Record<string, string | boolean>>();
  if (raw.full) {
    // Only what was not given explicitly.
    for (const [key, value] of Object.entries(FULL)) if (program.getOptionValueSource(key) === 'default') raw[key] = value;
  }
  const num = (k: string) => {
    const n = Number(raw[k]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: not a number: ${String(raw[k])}`);
    return n;
  };
  const only = list(String(raw.only)) as SectionName[];
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (known: ${SECTIONS.join(', ')})`);
  return {
    only,
    full: Boolean(raw.full),
    redis: raw.redis as RedisTopology,
    targets: list(String(raw.targets)) as Target[],
    out: String(raw.out),
    seconds: num('seconds'),
    warmup: num('warmup'),
    loadProcs: num('loadProcs'),
    subscribers: num('subscribers'),
    channels: num('channels'),
    rate: num('rate'),
    rounds: num('rounds'),
    ramp: list(String(raw.ramp)).map(Number),
    idle: num('idle'),
    dataBytes: num('dataBytes'),
    profile: raw.profile !== false,
    publishSeconds: num('publishSeconds'),
    publishRate: num('publishRate'),
    coalescingSubscribers: num('coalescingSubscribers'),
    writeDelays: list(String(raw.writeDelays)).map(Number),
    compressionSubscribers: num('compressionSubscribers'),
    compressionRate: num('compressionRate'),
    compressionBytes: num('compressionBytes'),
    connections: num('connections'),
    connectionsWide: num('connectionsWide'),
    wideServers: num('wideServers'),
    broadcasts: num('broadcasts'),
  };
}
