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
  const env = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    PUBLISHER_KEYS: E2E_PUBLISHER_KEY,
    SUBSCRIBER_JWT_SECRET: E2E_JWT_SECRET,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    DRAIN_WINDOW_SECONDS: '1',
    HEARTBEAT_SECONDS: '5',
    ...options.env,
  };
  const sourcePort = await freePort();
  const clientPorts: number[] = [];
  for (let i = 0; i < (options.clients ?? 2); i++) clientPorts.push(await freePort());
  const clientRedis: Record<string, string> = options.clientRedisUrl ? { REDIS_URL: await options.clientRedisUrl(redis.port) } : {};
  const children = new Map<string, ChildProcess>();

  async function launch(name: string, script: string, extra: Record<string, string>, port: number): Promise<void> {
    const child = spawn(process.execPath, [`dist/services/${script}/main.js`], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.set(name, child);
    await waitReady(`http://127.0.0.1:${port}`, child, name);
  }
  const startClient = (i: number) => launch(`client-${i}`, 'client-server', { CLIENT_PORT: String(clientPorts[i]), ...clientRedis }, clientPorts[i]!);

  try {
    await launch('source', 'source-server', { SOURCE_PORT: String(sourcePort) }, sourcePort);
    await Promise.all(clientPorts.map((_, i) => startClient(i)));
  } catch (err) {
    for (const child of children.values()) child.kill('SIGKILL');
    await redis.stop();
    throw err;
  }

  return {
    sourceUrl: `http://127.0.0.1:${sourcePort}`,
    clientUrls: clientPorts.map((p) => `http://127.0.0.1:${p}`),
    publisherKey: E2E_PUBLISHER_KEY,
    jwtSecret: E2E_JWT_SECRET,
    persistence,
    redis,
    restartRedis: () => redis.restart(),
    async killClient(i) {
      await stopChild(children.get(`client-${i}`), 'SIGKILL');
    },
    startClient,
    async signalClient(i, signal) {
      await stopChild(children.get(`client-${i}`), signal);
    },
    async stop() {
      await Promise.all([...children.values()].map((c) => stopChild(c, 'SIGKILL')));
      await redis.stop();
    },
  };
}

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} was not ready at ${url} within 15 s`);
}

export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
