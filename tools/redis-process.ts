import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export { freePort };

/**
 * The pieces the cluster and sentinel harnesses share: one redis-server (or sentinel) process that can be
 * killed and started again on the same port and directory, a one-shot admin command, and polling.
 */

export const LOCALHOST = '127.0.0.1';

/** Redis 7.0 brought sharded pub/sub (SPUBLISH/SSUBSCRIBE) and CLUSTER SHARDS; older servers cannot run issue #12's tests. */
const MIN_REDIS_MAJOR = 7;

/** How long one admin command may take before the poll counts it as a failure and tries again. */
const ADMIN_COMMAND_TIMEOUT_MS = 2_000;

/** How often waitUntil polls: often enough that measured failover times are not rounded up by much. */
const POLL_INTERVAL_MS = 50;

export function assertRedis7Installed(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed, and the tests need a real one. Install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
  const major = Number(/v=(\d+)\./.exec(probe.stdout)?.[1]);
  if (!(major >= MIN_REDIS_MAJOR)) throw new Error(`redis-server ${MIN_REDIS_MAJOR}.0 or newer is needed, found: ${probe.stdout.trim()}`);
}


export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `eventrelay-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// A crashed test file must not leave six redis-servers behind: whatever is still running when this
// process exits is SIGKILLed (synchronously, which is all an 'exit' handler may do).
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface RedisProcess {
  readonly port: number;
  readonly dir: string;
  /** The OS pid while running, undefined after kill. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts (or starts again, same port, directory and arguments) and waits until it answers PING. */
  start(): Promise<void>;
  /** Sends the signal; for SIGTERM/SIGKILL waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface RedisProcessOptions {
  port: number;
  dir: string;
  /** Arguments to redis-server: a config file path and/or `--option value` pairs. */
  args: string[];
  /** The password PING must authenticate with (requirepass). */
  password?: string;
}

export function createRedisProcess(options: RedisProcessOptions): RedisProcess {
  let child: ChildProcess | undefined;
  const logFile = join(options.dir, 'redis.log');
  return {
    port: options.port,
    dir: options.dir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (this.running) throw new Error(`redis on port ${options.port} is already running`);
      const started = spawn('redis-server', [...options.args, '--logfile', logFile], { stdio: 'ignore' });
      child = started;
      liveChildren.add(started);
      started.once('exit', () => liveChildren.delete(started));
      try {
        await waitUntil(`redis on port ${options.port} answers PING`, async () => {
          if (started.exitCode !== null) throw new StopWaiting(`redis on port ${options.port} exited with ${started.exitCode}: ${tail(logFile)}`);
          return (await redisCommand(options.port, ['PING'], { password: options.password })) === 'PONG';
        }, 10_000);
      } catch (error) {
        started.kill('SIGKILL');
        throw error;
      }
    },
    async kill(signal = 'SIGKILL') {
      const target = child;
      if (!target || target.exitCode !== null || target.signalCode !== null) return;
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') {
        target.kill(signal);
        return;
      }
      target.kill('SIGCONT'); // a SIGSTOPped process would never act on SIGTERM
      await new Promise<void>((resolve) => {
        target.once('exit', () => resolve());
        target.kill(signal);
      });
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * One command on a fresh connection that never retries: what an operator's redis-cli would do.
 * A fresh connection per call keeps the harness free of reconnect state while nodes are killed under it.
 */
export async function redisCommand(port: number, args: Array<string | number>, options: { password?: string } = {}): Promise<unknown> {
  const connection = new Redis({
    host: LOCALHOST,
    port,
    password: options.password,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: ADMIN_COMMAND_TIMEOUT_MS,
    commandTimeout: ADMIN_COMMAND_TIMEOUT_MS,
  });
  connection.on('error', () => {}); // the rejected promise below carries the error
  try {
    await connection.connect();
    const [command, ...rest] = args;
    return await connection.call(String(command), ...rest);
  } finally {
    connection.disconnect();
  }
}

/** `INFO` text (or CLUSTER INFO) as a map of field to value. */
export function parseInfo(text: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of String(text).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** Thrown from a waitUntil check when waiting longer cannot help (the process died). */
export class StopWaiting extends Error {}

/**
 * Polls `check` until it returns true. A thrown error counts as "not yet" and its message is quoted if time
 * runs out, so checks throw the reason they are not satisfied (see `expectState`); StopWaiting ends at once.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'never true';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what} (last: ${lastProblem})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** For waitUntil checks: throws `reason` (the "not yet" explanation) unless `condition` holds. */
export function expectState(condition: boolean, reason: string): void {
  if (!condition) throw new Error(reason);
}
