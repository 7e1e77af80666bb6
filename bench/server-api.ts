// Server API response times on a channel with 10,000 events of history:
//   node --import tsx bench/server-api.ts                      (in-memory engine)
//   node --import tsx bench/server-api.ts --redis-url redis://127.0.0.1:6379   (a Redis you started; it is written to)
// One source-server listening on a free port; each endpoint asked --requests
// times in a row over keep-alive HTTP (fetch), after a warm-up. Prints a
// Markdown table of median / p90 / p99 milliseconds and response bytes.
import { Command } from 'commander';
import { pino } from 'pino';
import { createEngine } from '../services/engine/create-engine.js';
import type { Engine } from '../services/engine/engine.js';
import { MemoryBroker } from '../services/engine/memory/memory-broker.js';
import { createMemoryEngine } from '../services/engine/memory/memory-engine.js';
import { loadConfig } from '../services/runtime/config/load.js';
import { buildSourceApp } from '../services/source-server/app.js';
import { SourceMetrics } from '../services/source-server/source-metrics.js';
import { loadAverage } from './lib/proc.js';

const program = new Command()
  .name('server-api')
  .option('--redis-url <url>', 'run on Redis instead of the in-memory engine')
  .option('--events <n>', 'events of history in the measured channel', '10000')
  .option('--requests <n>', 'requests per endpoint', '300')
  .option('--channels <n>', 'occupied channels for the list', '200')
  .option('--members <n>', 'presence members of the measured channel', '50');
program.parse();
const opts = program.opts<{ redisUrl?: string; events: string; requests: string; channels: string; members: string }>();
const EVENTS = Number(opts.events);
const REQUESTS = Number(opts.requests);
const KEY = 'bench-publisher-key-0123456789';
const CHANNEL = `bench-history-${Date.now()}`;

const config = loadConfig({
  PUBLISHER_KEYS: KEY,
  HISTORY_SIZE: String(EVENTS),
  LOG_LEVEL: 'warn',
  ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
});
const logger = pino({ level: 'warn' });
// The source-server's engine, and a second one standing for a client-server (occupancy, presence).
let engine: Engine;
let clientSide: Engine;
if (opts.redisUrl) {
  engine = createEngine({ config, logger }, { subscribe: false });
  clientSide = createEngine({ config, logger }, { subscribe: false });
} else {
  const broker = new MemoryBroker({ config });
  engine = createMemoryEngine({ config, logger, broker });
  clientSide = createMemoryEngine({ config, logger, broker });
}
const app = buildSourceApp({ config, logger, engine, metrics: new SourceMetrics({ defaultMetrics: false }) });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const headers = { authorization: `Bearer ${KEY}` };
while ((await fetch(`${base}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 50));

// History: EVENTS events of ~120 bytes of data each, in batches of 1,000.
const ids: string[] = [];
for (let from = 0; from < EVENTS; from += 1000) {
  const events = Array.from({ length: Math.min(1000, EVENTS - from) }, (_, i) => ({
    channel: CHANNEL,
    data: { n: from + i, order: 12345678901234567890n.toString(), items: [{ sku: 'A-1', qty: 2 }], note: 'leave at the door' },
  }));
  const response = await fetch(`${base}/v1/events`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
  if (response.status !== 200) throw new Error(`publish failed: ${response.status} ${await response.text()}`);
  ids.push(...((await response.json()) as { results: { id: string }[] }).results.map((r) => r.id));
}
// Occupancy and presence, as client-servers would have reported them.
for (let i = 0; i < Number(opts.channels); i++) {
  const channel = i === 0 ? CHANNEL : `bench-room-${String(i).padStart(4, '0')}`;
  await clientSide.channels.occupy(channel);
  clientSide.channels.report(channel, i + 1);
}
for (let i = 0; i < Number(opts.members); i++) await clientSide.presence.join(CHANNEL, `c${i}`, { user: `user-${i}`, info: { name: `User ${i}` } });
// Reports reach the counts within STATS_INTERVAL_SECONDS on Redis.
await new Promise((r) => setTimeout(r, opts.redisUrl ? config.statsIntervalSeconds * 1000 + 500 : 0));

const mid = ids[Math.floor(ids.length / 2)]!;
const endpoints: [string, string, string][] = [
  ['GET', `/v1/channels/${CHANNEL}/events?limit=100`, 'latest 100'],
  ['GET', `/v1/channels/${CHANNEL}/events?limit=1000`, 'latest 1,000'],
  ['GET', `/v1/channels/${CHANNEL}/events?since=${ids[0]}&limit=100`, 'since the oldest, 100'],
  ['GET', `/v1/channels/${CHANNEL}/events?since=${mid}&limit=1000`, 'since the middle, 1,000'],
  ['GET', `/v1/channels/${CHANNEL}/events?since=${ids[ids.length - 101]}&limit=100`, 'since 100 before the end, 100'],
  ['GET', `/v1/channels/${CHANNEL}`, 'channel stats'],
  ['GET', `/v1/channels?limit=100`, `list, 100 of ${opts.channels}`],
  ['GET', `/v1/channels/${CHANNEL}/presence`, `presence, ${opts.members} members`],
  ['POST', `/v1/users/nobody/disconnect`, 'disconnect'],
];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const rows: string[] = [];
for (const [method, path, label] of endpoints) {
  let bytes = 0;
  const once = async () => {
    const start = process.hrtime.bigint();
    const response = await fetch(`${base}${path}`, { method, headers });
    const body = await response.arrayBuffer();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${Buffer.from(body).toString()}`);
    bytes = body.byteLength;
    return ms;
  };
  for (let i = 0; i < 20; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) times.push(await once());
  times.sort((a, b) => a - b);
  rows.push(`| ${label} | ${method} ${path.replace(CHANNEL, '{c}').replace(/since=[^&]+/, 'since={id}')} | ${quantile(times, 0.5).toFixed(2)} | ${quantile(times, 0.9).toFixed(2)} | ${quantile(times, 0.99).toFixed(2)} | ${bytes.toLocaleString('en')} |`);
}

console.log(`Server API on the ${engine.kind} engine, ${EVENTS.toLocaleString('en')} events of history, ${REQUESTS} requests each, load average ${loadAverage()}`);
console.log('| request | path | median ms | p90 ms | p99 ms | bytes |\n|---|---|---|---|---|---|');
console.log(rows.join('\n'));
await app.close();
await clientSide.close();
await engine.close();
