import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A real redis-server for tests, on a free port, in a private directory.
 * Tests never skip when it is missing: they fail, saying how to install it.
 */
export interface RedisServerOptions {
  /** AOF with `appendfsync always`: every acknowledged write survives a restart. */
  appendonly?: boolean;
  port?: number;
  /** `--requirepass`: clients must AUTH; `url` then carries the password (`redis://:<password>@...`). */
  password?: string;
  /** Also listen with TLS on a second port (`tlsUrl`, rediss://), with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** With the `tls` option: the rediss:// URL of the TLS port (with the password, if any). */
  readonly tlsUrl?: string;
  /** Stops (SIGTERM, or SIGKILL with `hard`) and starts again on the same port and directory. */
  restart(options?: { hard?: boolean; downMs?: number }): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export function assertRedisInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed, and the tests need a real one. Install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  assertRedisInstalled();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'eventrelay-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--protected-mode', 'no', '--loglevel', 'warning',
    ...(options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const tlsPort = options.tls ? await freePort() : undefined;
  if (options.tls) {
    args.push('--tls-port', String(tlsPort), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no');
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  let child: ChildProcess = await launch(args, port, options.password);

  const handle: RedisServerHandle = {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    tlsUrl: tlsPort === undefined ? undefined : `rediss://${auth}127.0.0.1:${tlsPort}`,
    async restart({ hard = false, downMs = 0 } = {}) {
      await terminate(child, hard ? 'SIGKILL' : 'SIGTERM');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      child = await launch(args, port, options.password);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      child.kill('SIGCONT');
      await terminate(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

async function launch(args: string[], port: number, password?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
    if (await answersPing(port, password)) return child;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port} within 10 s`);
}

function answersPing(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n'));
    let answer = '';
    socket.on('data', (data) => {
      answer += data.toString();
      // With a password: "+OK" to AUTH, then the PING's answer.
      if (password && answer.startsWith('+OK\r\n') && answer.length <= 5) return;
      socket.destroy();
      // "-LOADING" while an AOF is replayed: not ready yet.
      resolve((password ? answer.slice(5) : answer).startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
