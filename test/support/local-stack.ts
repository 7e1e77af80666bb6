import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tools/ports.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import type { Stack, StackOptions } from './stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const E2E_PUBLISHER_KEY = 'e2e-publisher-key-0123456789';
export const E2E_JWT_SECRET = 'e2e-jwt-secret-e2e-jwt-secret-0123456789';

export interface LocalStackOptions extends StackOptions {
  /** Extra environment for every service process (e.g. DRAIN_WINDOW_SECONDS). */
  env?: Record<string, string>;
  /** How many client-servers. Default 2. */
  clients?: number;
  /** REDIS_URL of the client-servers, given the real Redis port (e.g. through a TCP proxy). Default: Redis itself. */
  clientRedisUrl?: (redisPort: number) => string | Promise<string>;
}

/** A local stack also lets a test reach the processes themselves. */
export interface LocalStack extends Stack {
  /** The redis-server (pause/resume to freeze it). */
  readonly redis: RedisServerHandle;
  /** Sends `signal` to client-server `index` and resolves once it has exited. */
  signalClient(index: number, signal: NodeJS.Signals): Promise<void>;
}

/**
 * The real thing on this machine: a redis-server, one source-server and two
 * client-servers, each `node dist/services/<name>/main.js` (run `npm run
 * build` first; `npm test` does).
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const persistence = options.persistence ?? 'aof';
  const redis = await startRedisServer({ appendonly: persistence === 'aof' });
  const clientRedis: Record<string, string> = options.clientRedisUrl ? { REDIS_URL: await options.clientRedisUrl(redis.port) } : {};
  let services: Services;
  try {
    services = await startServices({ REDIS_URL: redis.url, ...options.env }, { clients: options.clients, clientEnv: clientRedis });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return {
    ...services,
    persistence,
    redis,
    restartRedis: () => redis.restart(),
    async stop() {
      await services.stop();
      await redis.stop();
    },
  };
}

/** The services of a stack, on whatever Redis `env` names (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES). */
export interface Services {
  readonly sourceUrl: string;
  readonly clientUrls: string[];
  readonly publisherKey: string;
  readonly jwtSecret: string;
  killClient(index: number): Promise<void>;
  startClient(index: number): Promise<void>;
  signalClient(index: number, signal: NodeJS.Signals): Promise<void>;
  /** Stops the services only: the caller started Redis and stops it. */
  stop(): Promise<void>;
}

/**
 * One source-server and `clients` client-servers (default 2) as real
 * processes on the Redis deployment `env` points at; `fromSource` runs
 * services/<name>/main.ts through tsx instead of the build.
 */
export async function startServices(
  redisEnv: Record<string, string>,
  options: { clients?: number; clientEnv?: Record<string, string>; fromSource?: boolean } = {},
): Promise<Services> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PUBLISHER_KEYS: E2E_PUBLISHER_KEY,
    SUBSCRIBER_JWT_SECRET: E2E_JWT_SECRET,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    DRAIN_WINDOW_SECONDS: '1',
    HEARTBEAT_SECONDS: '5',
    ...redisEnv,
  };
  const sourcePort = await freePort();
  const clientPorts: number[] = [];
  for (let i = 0; i < (options.clients ?? 2); i++) clientPorts.push(await freePort());
  const children = new Map<string, ChildProcess>();

  async function launch(name: string, script: string, extra: Record<string, string>, port: number): Promise<void> {
    const args = options.fromSource ? ['--import', 'tsx', `services/${script}/main.ts`] : [`dist/services/${script}/main.js`];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.set(name, child);
    await waitReady(`http://127.0.0.1:${port}`, child, name);
  }
  const startClient = (i: number) => launch(`client-${i}`, 'client-server', { CLIENT_PORT: String(clientPorts[i]), ...options.clientEnv }, clientPorts[i]!);

  try {
    await launch('source', 'source-server', { SOURCE_PORT: String(sourcePort) }, sourcePort);
    await Promise.all(clientPorts.map((_, i) => startClient(i)));
  } catch (err) {
    for (const child of children.values()) child.kill('SIGKILL');
    throw err;
  }

  return {
    sourceUrl: `http://127.0.0.1:${sourcePort}`,
    clientUrls: clientPorts.map((p) => `http://127.0.0.1:${p}`),
    publisherKey: E2E_PUBLISHER_KEY,
    jwtSecret: E2E_JWT_SECRET,
    async killClient(i) {
      await stopChild(children.get(`client-${i}`), 'SIGKILL');
    },
    startClient,
    async signalClient(i, signal) {
      await stopChild(children.get(`client-${i}`), signal);
    },
    async stop() {
      await Promise.all([...children.values()].map((c) => stopChild(c, 'SIGKILL')));
    },
  };
}

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} was not ready at ${url} within 20 s`);
}

export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
