import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { freePort } from '../../tools/ports.js';
import type { Target } from './ipc.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const PUBLISHER_KEY = 'bench-publisher-key-0123456789';
const JWT_SECRET = 'bench-subscriber-secret-0123456789abcdef';

/** One target's processes, started on a private Redis. */
export interface RunningTarget {
  kind: Target;
  /** The relay's own processes (publishing side and subscriber side), for CPU accounting. */
  relayPids: number[];
  /** The process that holds the subscriber connections, for RSS per connection. */
  subscriberPid: number;
  /** ws:// for eventrelay and the floor, http:// for Socket.IO. */
  subscribeUrl: string;
  publishUrl: string;
  token?: string;
  key?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  redisUrl: string;
  /** Directory for `node --cpu-prof` profiles of the relay processes; none when undefined. */
  profileDir?: string;
}

function spawnNode(script: string, env: Record<string, string>, options: StartOptions, ts: boolean): ChildProcess {
  const args = [...(ts ? ['--import', 'tsx'] : []), ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []), script];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** Resolves once GET `url` answers with `status` (any status when undefined). */
async function waitHttp(url: string, status?: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const code = await new Promise<number | undefined>((resolve) => {
      const req = request(url, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(undefined));
      req.setTimeout(1000, () => req.destroy());
      req.end();
    });
    if (code !== undefined && (status === undefined || code === status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

/** Every process group bench started, killed if the orchestrator dies before it could stop them. */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) signalGroup(child, 'SIGKILL');
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          // The whole group: tsx's esbuild helper goes with its node process.
          const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          // SIGTERM lets eventrelay drain and node write its --cpu-prof profile.
          signalGroup(child, 'SIGTERM');
        }),
    ),
  );
}

export async function startTarget(kind: Target, options: StartOptions): Promise<RunningTarget> {
  const [pubPort, subPort] = [await freePort(), await freePort()];
  const host = '127.0.0.1';
  let children: ChildProcess[];
  if (kind === 'eventrelay') {
    const env = {
      REDIS_URL: options.redisUrl,
      HOST: host,
      SOURCE_PORT: String(pubPort),
      CLIENT_PORT: String(subPort),
      LOG_LEVEL: 'warn',
      PUBLISHER_KEYS: PUBLISHER_KEY,
      SUBSCRIBER_JWT_SECRET: JWT_SECRET,
      DRAIN_WINDOW_SECONDS: '0',
      NODE_ENV: 'production',
      // Every bench client comes from 127.0.0.1: the per-IP limit would cap the load, not measure it.
      MAX_CONNECTIONS_PER_IP: '0',
    };
    children = [
      spawnNode('dist/services/source-server/main.js', env, options, false),
      spawnNode('dist/services/client-server/main.js', env, options, false),
    ];
    await waitHttp(`http://${host}:${pubPort}/readyz`, 200);
    await waitHttp(`http://${host}:${subPort}/readyz`, 200);
  } else {
    const peer = kind === 'floor' ? 'floor' : 'socketio';
    children = [
      spawnNode(`bench/peers/${peer}-publisher.ts`, { REDIS_URL: options.redisUrl, PORT: String(pubPort) }, options, true),
      spawnNode(`bench/peers/${peer}-server.ts`, { REDIS_URL: options.redisUrl, PORT: String(subPort) }, options, true),
    ];
    await waitHttp(`http://${host}:${pubPort}/`);
    await waitHttp(`http://${host}:${subPort}/`);
  }
  return {
    kind,
    relayPids: children.map((c) => c.pid!),
    subscriberPid: children[1]!.pid!,
    publishUrl: `http://${host}:${pubPort}`,
    subscribeUrl: kind === 'socketio' ? `http://${host}:${subPort}` : `ws://${host}:${subPort}`,
    token: kind === 'eventrelay' ? signSubscriberToken(JWT_SECRET, { channels: ['bench-*'] }) : undefined,
    key: kind === 'eventrelay' ? PUBLISHER_KEY : undefined,
    stop: () => stopAll(children),
  };
}

/** The pid of the redis-server listening on `port` (it names its port in its process title). */
export function redisPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('redis-server') && cmdline.includes(`:${port}`)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
