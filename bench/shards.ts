// `npm run bench:shards`: the shard-scaling row of BENCHMARKS.md (its own block, which `npm run bench` keeps).
// The same load on one Redis (1 shard) and on a 3-master Redis Cluster (3 shards,
// no replicas): one source-server, one client-server, WebSocket subscribers spread
// over channels that hash onto every master, and a closed-loop publisher of
// single-event POSTs over those channels. Prints publish capacity, deliveries/s
// and CPU per delivery for each, and writes them as the shards block of BENCHMARKS.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { WebSocket } from 'ws';
import { signSubscriberToken } from '../services/client-server/auth/jwt.js';
import { freePort } from '../tools/ports.js';
import { startRedisCluster } from '../tools/redis-cluster.js';
import { startRedisServer } from '../tools/redis-server.js';
import { cpuMicros, loadAverage, machineDescription } from './lib/proc.js';
import { SHARDS_END, SHARDS_START, replaceBlock } from './soak/markdown.js';

const opts = new Command()
  .option('--seconds <n>', 'measured seconds per deployment', '10')
  .option('--subscribers <n>', 'WebSocket subscribers', '200')
  .option('--channels <n>', 'channels (spread over every shard)', '30')
  .option('--concurrency <n>', 'publish requests in flight', '32')
  .option('--rounds <n>', 'alternating rounds of both deployments', '2')
  .option('--out <file>', 'report whose shards block is rewritten', 'BENCHMARKS.md')
  .parse()
  .opts<Record<string, string>>();
const ROOT = join(import.meta.dirname, '..');
const KEY = 'bench-publisher-key-0123456789';
const SECRET = 'bench-subscriber-secret-0123456789abcdef';

interface Row {
  deployment: string;
  published: number;
  delivered: number;
  cpuUs: Record<string, number>;
}

function spawnService(name: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [`dist/services/${name}/main.js`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function ready(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready`);
}

async function measure(deployment: string, redisEnv: Record<string, string>, redisPids: number[]): Promise<Row> {
  const [sourcePort, clientPort] = [await freePort(), await freePort()];
  const env = { ...redisEnv, HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', PUBLISHER_KEYS: KEY, SUBSCRIBER_JWT_SECRET: SECRET, MAX_CONNECTIONS_PER_IP: '0', DRAIN_WINDOW_SECONDS: '0' };
  const source = spawnService('source-server', { ...env, SOURCE_PORT: String(sourcePort) });
  const client = spawnService('client-server', { ...env, CLIENT_PORT: String(clientPort) });
  try {
    await Promise.all([ready(`http://127.0.0.1:${sourcePort}`), ready(`http://127.0.0.1:${clientPort}`)]);
    const channels = Array.from({ length: Number(opts.channels) }, (_, i) => `bench-shard-${i}`);
    const token = signSubscriberToken(SECRET, { channels: ['bench-*'] });
    let delivered = 0;
    const sockets = await Promise.all(
      Array.from({ length: Number(opts.subscribers) }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${clientPort}/v1/ws?token=${token}`);
        ws.on('open', () => {
          ws.send(JSON.stringify({ type: 'subscribe', channel: channels[i % channels.length] }));
          resolve(ws);
        });
        ws.on('message', (raw: Buffer) => {
          if (raw[9] === 0x65) delivered++; // {"type":"event"
        });
        ws.on('error', reject);
      })),
    );
    await new Promise((r) => setTimeout(r, 1000));
    let published = 0;
    let running = true;
    const body = JSON.stringify({ p: 'x'.repeat(92) });
    const worker = async (w: number) => {
      for (let n = w; running; n += Number(opts.concurrency)) {
        const res = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/${channels[n % channels.length]}/events`, {
          method: 'POST', body, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        });
        await res.arrayBuffer();
        if (res.status === 200) published++;
      }
    };
    const pids = { 'source-server': source.pid!, 'client-server': client.pid! };
    const before = { source: cpuMicros(source.pid!), client: cpuMicros(client.pid!), redis: redisPids.reduce((s, p) => s + cpuMicros(p), 0) };
    const [d0] = [delivered];
    const workers = Array.from({ length: Number(opts.concurrency) }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, Number(opts.seconds) * 1000));
    running = false;
    const seconds = Number(opts.seconds);
    const cpuUs = {
      'source-server': cpuMicros(pids['source-server']) - before.source,
      'client-server': cpuMicros(pids['client-server']) - before.client,
      redis: redisPids.reduce((s, p) => s + cpuMicros(p), 0) - before.redis,
    };
    const deliveredNow = delivered - d0;
    await Promise.all(workers);
    for (const ws of sockets) ws.terminate();
    return { deployment, published: published / seconds, delivered: deliveredNow / seconds, cpuUs };
  } finally {
    source.kill('SIGKILL');
    client.kill('SIGKILL');
  }
}

const rows: Row[] = [];
const startLoad = loadAverage();
// Rounds alternate the deployments (1, 3, 1, 3, ...), each on a fresh Redis and fresh processes.
for (let round = 1; round <= Number(opts.rounds); round++) {
  const standalone = await startRedisServer();
  try {
    const pid = Number((/^process_id:(\d+)/m.exec(await infoOf(standalone.port)) ?? [])[1]);
    rows.push(await measure('1 shard (one Redis)', { REDIS_URL: standalone.url }, [pid]));
  } finally {
    await standalone.stop();
  }
  const cluster = await startRedisCluster({ replicasPerMaster: 0 });
  try {
    const pids = (await cluster.nodes()).map((n) => n.pid!).filter(Boolean);
    rows.push(await measure('3 shards (Redis Cluster)', { REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',') }, pids));
  } finally {
    await cluster.stop();
  }
}

async function infoOf(port: number): Promise<string> {
  const { redisCommand } = await import('../tools/redis-process.js');
  return String(await redisCommand(port, ['INFO', 'server']));
}

const seconds = Number(opts.seconds);
const lines = [
  SHARDS_START,
  '## Shard scaling: one Redis against a 3-master Redis Cluster',
  '',
  `Written by \`npm run bench:shards\` (bench/shards.ts) on ${new Date().toISOString()}. Machine: ${machineDescription()}; load average ${startLoad} when it started; the load generator (this process) shares the cores.`,
  `${opts.subscribers} WebSocket subscribers on one client-server over ${opts.channels} channels (spread over every slot), one source-server, ${opts.concurrency} single-event publishes in flight (closed loop), ${seconds} s per run, ${opts.rounds} alternating rounds; the cluster has no replicas.`,
  '',
  '| deployment | publishes/s (200) | deliveries/s | client-server CPU µs/delivery | source-server CPU µs/publish | Redis CPU µs/publish | total CPU (of 200 %) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const total = ((r.cpuUs['client-server']! + r.cpuUs['source-server']! + r.cpuUs.redis!) / (seconds * 1e6)) * 100;
    return `| ${r.deployment} | ${Math.round(r.published)} | ${Math.round(r.delivered)} | ${(r.cpuUs['client-server']! / (r.delivered * seconds)).toFixed(2)} | ${(r.cpuUs['source-server']! / (r.published * seconds)).toFixed(1)} | ${(r.cpuUs.redis! / (r.published * seconds)).toFixed(1)} | ${total.toFixed(0)}% |`;
  }),
  '',
  'Read the total-CPU column first: below 200 % the two cores were not the limit, and the closed-loop publisher (this process, which also holds every subscriber) set the pace, so publishes/s is a floor of what each deployment takes. On 2 cores three shards cannot add capacity in any case: one source-server and one client-server process need most of a core each before Redis does. What the rows do show is what sharding costs per event: client-server CPU per delivery and source-server CPU per publish should stay flat between 1 and 3 shards; Redis CPU per publish includes the cluster bus.',
  SHARDS_END,
];
console.log(lines.join('\n'));
const outFile = join(ROOT, opts.out ?? 'BENCHMARKS.md');
writeFileSync(outFile, replaceBlock(existsSync(outFile) ? readFileSync(outFile, 'utf8') : '# Benchmarks\n', lines.join('\n')));
