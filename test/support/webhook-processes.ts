import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tools/ports.js';
import { E2E_JWT_SECRET, E2E_PUBLISHER_KEY, stopChild } from './local-stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A real process of the test: its log lines (pino JSON) are kept, not printed. */
export interface Proc {
  readonly child: ChildProcess;
  readonly logs: Array<{ level: number; msg: string; [k: string]: unknown }>;
  /** Sends `signal` and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface Service extends Proc {
  readonly url: string;
  /** The sum of a metric's samples on this process's /metrics (0 when absent). */
  metric(name: string): Promise<number>;
}

export interface Driver extends Proc {
  /** Publishes one client event through the driver's engine; resolves its id. */
  publish(channel: string, data: unknown, publisher: string): Promise<string>;
}

/** The environment every process of a webhook test shares. */
export function serviceEnv(redisUrl: string, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PUBLISHER_KEYS: E2E_PUBLISHER_KEY,
    SUBSCRIBER_JWT_SECRET: E2E_JWT_SECRET,
    LOG_LEVEL: 'info',
    DRAIN_WINDOW_SECONDS: '1',
    ...extra,
  };
}

function track(child: ChildProcess, stream: NodeJS.ReadableStream | null, logs: Proc['logs']): void {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Proc['logs'][number]);
    } catch {
      logs.push({ level: 30, msg: line });
    }
  });
}

/** `node dist/services/<script>/main.js` on a free port (run `npm run build` first); resolves once /readyz answers 200. */
export async function startService(script: 'source-server' | 'client-server', env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const portVar = script === 'source-server' ? 'SOURCE_PORT' : 'CLIENT_PORT';
  const child = spawn(process.execPath, [`dist/services/${script}/main.js`], { cwd: ROOT, env: { ...env, [portVar]: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: Proc['logs'] = [];
  track(child, child.stdout, logs);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error(`${script} was not ready within 20 s`);
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    logs,
    url,
    stop: (signal = 'SIGKILL') => stopChild(child, signal),
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    },
  };
}

/** The webhook driver (webhook-driver.ts) in its own process; resolves once its engine is connected. */
export async function startDriver(env: Record<string, string>): Promise<Driver> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/webhook-driver.ts'], { cwd: ROOT, env: { ...env, LOG_PRETTY: 'false' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const logs: Proc['logs'] = [];
  track(child, child.stderr, logs);
  const answers: Array<(line: string) => void> = [];
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the webhook driver exited with ${code} before it was ready`)));
    lines.once('line', () => resolve());
  });
  await ready;
  lines.on('line', (line) => answers.shift()?.(line));
  return {
    child,
    logs,
    stop: (signal = 'SIGKILL') => stopChild(child, signal),
    publish(channel, data, publisher) {
      return new Promise((resolve, reject) => {
        answers.push((line) => {
          const answer = JSON.parse(line) as { id?: string; error?: string };
          if (answer.id) resolve(answer.id);
          else reject(new Error(answer.error));
        });
        child.stdin!.write(`${JSON.stringify({ channel, data, publisher })}\n`);
      });
    },
  };
}
