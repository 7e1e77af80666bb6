import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Stack, StackOptions } from './stack.js';

/**
 * The docker compose stack as an end-to-end target (E2E_TARGET=compose).
 * It assumes the stack is already up: `npm run test:compose`
 * (scripts/test-compose.sh) starts it with AOF on, runs the suites one file
 * at a time (they kill and restart shared containers), and tears it down.
 * Addresses come from `docker compose port`, credentials from compose.env,
 * so moving a host port or a key needs no change here.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** Compose services of the client-server replicas, in the order of Stack.clientUrls. */
export const CLIENT_SERVICES = ['client-server', 'client-server-2'] as const;
/** A container restart plus Redis replaying its AOF stays well inside this. */
const READY_TIMEOUT_MS = 60_000;

/** `docker compose ...` in the repository root. Asynchronous: tests keep receiving events meanwhile. */
export async function compose(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('docker', ['compose', ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`docker compose ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** KEY=value lines of compose.env. */
export function composeCredentials(): { publisherKey: string; jwtSecret: string } {
  const env: Record<string, string> = {};
  for (const line of readFileSync(new URL('../../compose.env', import.meta.url), 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!.trim();
  }
  const publisherKey = env.PUBLISHER_KEYS?.split(',')[0]?.trim();
  const jwtSecret = env.SUBSCRIBER_JWT_SECRET;
  if (!publisherKey || !jwtSecret) throw new Error('compose.env must set PUBLISHER_KEYS and SUBSCRIBER_JWT_SECRET');
  return { publisherKey, jwtSecret };
}

/** http://127.0.0.1:PORT where compose published `service`'s container port. */
export async function publishedUrl(service: string, containerPort: number): Promise<string> {
  const address = await compose('port', service, String(containerPort));
  if (!/^[\d.]+:\d+$/.test(address)) throw new Error(`${service} publishes no port ${containerPort} (is the compose stack up?)`);
  return `http://${address.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
}

async function redisSays(...command: string[]): Promise<string> {
  return compose('exec', '-T', 'redis', 'redis-cli', ...command);
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} within ${READY_TIMEOUT_MS / 1000} s`);
}

async function isReady(url: string): Promise<boolean> {
  return (await fetch(`${url}/readyz`)).status === 200;
}

export async function startComposeStack(options: StackOptions = {}): Promise<Stack> {
  const sourceUrl = await publishedUrl('source-server', 8080);
  const clientUrls = await Promise.all(CLIENT_SERVICES.map((s) => publishedUrl(s, 8081)));
  for (const url of [sourceUrl, ...clientUrls]) await waitUntil(`${url} was not ready`, () => isReady(url));

  // CONFIG GET prints the name, then the value.
  const persistence = (await redisSays('config', 'get', 'appendonly')).split('\n').pop()?.trim() === 'yes' ? 'aof' : 'none';
  if (options.persistence === 'aof' && persistence !== 'aof') {
    throw new Error('the compose stack runs Redis without AOF; start it with REDIS_APPENDONLY=yes (npm run test:compose does)');
  }
  const killed = new Set<number>();

  const startClient = async (index: number): Promise<void> => {
    await compose('start', CLIENT_SERVICES[index]!);
    killed.delete(index);
    await waitUntil(`${CLIENT_SERVICES[index]} was not ready again`, () => isReady(clientUrls[index]!));
  };

  return {
    sourceUrl,
    clientUrls,
    publisherKey: composeCredentials().publisherKey,
    jwtSecret: composeCredentials().jwtSecret,
    persistence,
    async restartRedis() {
      await compose('restart', 'redis');
      // PONG, not -LOADING: the AOF has been replayed.
      await waitUntil('redis did not answer PONG again', async () => (await redisSays('ping')) === 'PONG');
    },
    async killClient(index) {
      killed.add(index);
      await compose('kill', '-s', 'SIGKILL', CLIENT_SERVICES[index]!);
    },
    startClient,
    async stop() {
      // The stack belongs to the script that started it; only leave it whole for the next test file.
      for (const index of [...killed]) await startClient(index);
    },
  };
}
