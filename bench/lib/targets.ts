import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
// The bench's only import from services/: keep it the only one, so that a move of services/ is one edit here.
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { freePort } from '../../tools/ports.js';
import type { BenchPusherApp, Target } from './ipc.js';
import type { RedisDeployment } from './redis-topology.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const PUBLISHER_KEY = 'bench-publisher-key-0123456789';
const JWT_SECRET = 'bench-subscriber-secret-0123456789abcdef';
/** The `pusher` target's app: its sockets connect to `/app/<key>`, its triggers are signed with the secret. */
export const PUSHER_APP: BenchPusherApp = { id: 'bench', key: 'bench-app-key', secret: 'bench-app-secret' };

/** One target's processes, started on a private Redis. */
export interface RunningTarget {
  kind: Target;
  /** The relay's own processes (publishing side and subscriber side), for CPU accounting. */
  relayPids: number[];
  /** The publishing process (source-server, or the peer's publisher). */
  publisherPid: number;
  /** The processes that hold the subscriber connections (client-servers), for RSS per connection. */
  subscriberPids: number[];
  /** One per subscriber-side process: ws:// for eventrelay and the floor, http:// for Socket.IO. */
  subscribeUrls: string[];
  /** Prometheus endpoints of eventrelay's client-servers (none for the peers). */
  metricsUrls: string[];
  redisPids: number[];
  publishUrl: string;
  token?: string;
  key?: string;
  pusherApp?: BenchPusherApp;
  stop(): Promise<void>;
}

export interface StartOptions {
  redis: RedisDeployment;
  /** Subscriber-side processes (client-servers, or the peer's servers), each on its own port. Default 1. */
  servers?: number;
  /**
   * Extra environment for eventrelay's processes (WRITE_DELAY_MS, WS_COMPRESSION, …). Passed as
   * is: a build that does not know a variable ignores it, and the figures then show the baseline.
   */
  env?: Record<string, string>;
  /** The peers' compression: the floor's ws perMessageDeflate per socket, Socket.IO's perMessageDeflate. */
  peerDeflate?: boolean;
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
  const servers = options.servers ?? 1;
  const pubPort = await freePort();
  const subPorts: number[] = [];
  for (let i = 0; i < servers; i++) subPorts.push(await freePort());
  const host = '127.0.0.1';
  let publisher: ChildProcess;
  let subscribers: ChildProcess[];
  const relay = kind === 'eventrelay' || kind === 'pusher';
  if (relay) {
    const env = {
      ...options.redis.env,
      HOST: host,
      SOURCE_PORT: String(pubPort),
      LOG_LEVEL: 'warn',
      PUBLISHER_KEYS: PUBLISHER_KEY,
      SUBSCRIBER_JWT_SECRET: JWT_SECRET,
      DRAIN_WINDOW_SECONDS: '0',
      NODE_ENV: 'production',
      // Every bench client comes from 127.0.0.x: the per-IP limit would cap the load, not measure it.
      MAX_CONNECTIONS_PER_IP: '0',
      // The same processes serve both protocols; the pusher target only adds an app.
      ...(kind === 'pusher' ? { PUSHER_APP_ID: PUSHER_APP.id, PUSHER_APP_KEY: PUSHER_APP.key, PUSHER_APP_SECRET: PUSHER_APP.secret } : {}),
      // The section's knobs (WRITE_DELAY_MS, WS_COMPRESSION, …), passed whether or not this build reads them.
      ...options.env,
    };
    publisher = spawnNode('dist/services/source-server/main.js', env, options, false);
    subscribers = subPorts.map((port) => spawnNode('dist/services/client-server/main.js', { ...env, CLIENT_PORT: String(port) }, options, false));
    await waitHttp(`http://${host}:${pubPort}/readyz`, 200);
    for (const port of subPorts) await waitHttp(`http://${host}:${port}/readyz`, 200);
  } else {
    const peer = kind === 'floor' ? 'floor' : 'socketio';
    const env = { REDIS_URL: options.redis.url, PEER_DEFLATE: options.peerDeflate ? 'on' : 'off' };
    publisher = spawnNode(`bench/peers/${peer}-publisher.ts`, { ...env, PORT: String(pubPort) }, options, true);
    subscribers = subPorts.map((port) => spawnNode(`bench/peers/${peer}-server.ts`, { ...env, PORT: String(port) }, options, true));
    await waitHttp(`http://${host}:${pubPort}/`);
    for (const port of subPorts) await waitHttp(`http://${host}:${port}/`);
  }
  const children = [publisher, ...subscribers];
  return {
    kind,
    relayPids: children.map((c) => c.pid!),
    publisherPid: publisher.pid!,
    subscriberPids: subscribers.map((c) => c.pid!),
    publishUrl: `http://${host}:${pubPort}`,
    subscribeUrls: subPorts.map((port) => (kind === 'socketio' ? `http://${host}:${port}` : `ws://${host}:${port}`)),
    metricsUrls: relay ? subPorts.map((port) => `http://${host}:${port}/metrics`) : [],
    redisPids: options.redis.pids,
    token: kind === 'eventrelay' ? signSubscriberToken(JWT_SECRET, { channels: ['bench-*'] }) : undefined,
    key: kind === 'eventrelay' ? PUBLISHER_KEY : undefined,
    pusherApp: kind === 'pusher' ? PUSHER_APP : undefined,
    stop: () => stopAll(children),
  };
}
