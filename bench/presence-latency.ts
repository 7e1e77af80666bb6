// Presence across replicas: how long from a user's subscribe with presence on
// one client-server until a member watching on another client-server hears
// its `join` (and the same for `leave`).
//   npm run build && node --import tsx bench/presence-latency.ts [--rounds 200]
// Two client-servers from dist/ on a private redis-server; one observer on
// the second; each round a fresh user joins on the first and then leaves.
import { spawn, type ChildProcess } from 'node:child_process';
import { Command } from 'commander';
import WebSocket from 'ws';
import { signSubscriberToken } from '../services/client-server/auth/jwt.js';
import { freePort } from '../tools/ports.js';
import { startRedisServer } from '../tools/redis-server.js';
import { loadAverage } from './lib/proc.js';
import { ROOT } from './lib/targets.js';

const opts = new Command().option('--rounds <n>', 'joins measured', '200').parse().opts<{ rounds: string }>();
const SECRET = 'bench-presence-secret-0123456789abcdef0';
const CHANNEL = 'room:bench';

async function clientServer(redisUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env = { ...process.env, REDIS_URL: redisUrl, CLIENT_PORT: String(port), HOST: '127.0.0.1', SUBSCRIBER_JWT_SECRET: SECRET, LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, ['dist/services/client-server/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { url: `ws://127.0.0.1:${port}/v1/ws`, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('client-server not ready');
}

function member(url: string, user: string): Promise<WebSocket> {
  const token = signSubscriberToken(SECRET, { channels: [CHANNEL], presence: [CHANNEL], sub: user });
  const ws = new WebSocket(`${url}?token=${token}`);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', channel: CHANNEL, presence: true }));
      ws.on('message', function onMessage(data) {
        if ((JSON.parse(data.toString()) as { type: string }).type !== 'subscribed') return;
        ws.off('message', onMessage);
        resolve(ws);
      });
    });
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const redis = await startRedisServer();
const [a, b] = [await clientServer(redis.url), await clientServer(redis.url)];
const observer = await member(b.url, 'observer');
const heard = new Map<string, (at: number) => void>();
observer.on('message', (data) => {
  const m = JSON.parse(data.toString()) as { type: string; user?: string };
  heard.get(`${m.type} ${m.user}`)?.(performance.now());
});
const wait = (key: string) => new Promise<number>((resolve) => heard.set(key, resolve));
const joins: number[] = [];
const leaves: number[] = [];
for (let i = 0; i < Number(opts.rounds); i++) {
  const user = `u${i}`;
  const joined = wait(`join ${user}`);
  const start = performance.now();
  const ws = await member(a.url, user);
  joins.push((await joined) - start);
  const left = wait(`leave ${user}`);
  const closing = performance.now();
  ws.close();
  leaves.push((await left) - closing);
}
console.log(`Presence across two client-servers on one Redis, ${opts.rounds} rounds, load average ${loadAverage()} (the load generator shares the cores)`);
console.log('| transition | p50 ms | p99 ms | max ms |\n|---|---|---|---|');
for (const [name, xs] of [['subscribe with presence on A → join heard on B', joins], ['close on A → leave heard on B', leaves]] as const) {
  console.log(`| ${name} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`);
}
observer.terminate();
a.child.kill('SIGKILL');
b.child.kill('SIGKILL');
await redis.stop();
