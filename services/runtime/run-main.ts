import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Env } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

/** After a second signal, or when shutdown hangs this long past the drain window, the process exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000;
/** How long responses already being written get before the remaining HTTP sockets are cut at shutdown. */
const CLOSE_CONNECTIONS_AFTER_MS = 1000;

/** One app of this process, as the runner listens with it and shuts it down. */
export interface Server {
  /** `source-server` or `client-server`: the log field and the name in messages. */
  name: string;
  app: FastifyInstance;
  port: number;
  lifecycle: Lifecycle;
  /** Closes long-lived connections spread over `windowMs` (the client-server's subscribers), before the app closes. */
  drain?(windowMs: number): Promise<void>;
}

export interface Started {
  servers: Server[];
  /** Releases what `start` created besides the apps (the engine), after every app is closed. */
  close(): Promise<void>;
}

export interface MainOptions {
  /** The root logger's name and the prefix of start-up errors. */
  name: string;
  /** Adjusts the environment before it is read (the embedded mode's auth-off default); `notice` replaces the auth-off warning. */
  prepareEnv?(env: Env): { env: Env; notice?: string };
  /** Problems that stop the start, each naming the variable to set (credentials, REDIS_URL). */
  check(config: Config): string[];
  /** Builds this process's engine and apps; never listens. */
  start(deps: { config: Config; logger: Logger }): Promise<Started>;
}

/**
 * The body of every main.ts, and the only code that touches the process
 * (environment, files, signals, exit): main.ts builds its own apps through
 * `start` and hands `process` in. Imports no app.
 */
export async function runMain(proc: NodeJS.Process, options: MainOptions): Promise<void> {
  const prepared = options.prepareEnv?.({ ...proc.env }) ?? { env: { ...proc.env } };
  let config: Config;
  try {
    config = loadConfig(prepared.env, { readFile: (path) => readFileSync(path, 'utf8'), isTty: Boolean(proc.stdout.isTTY) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    proc.stderr.write(`${options.name}: ${err.message}\n`);
    return proc.exit(1);
  }
  const problems = options.check(config);
  if (problems.length) {
    proc.stderr.write(`${options.name}: cannot start:\n  - ${problems.join('\n  - ')}\n`);
    return proc.exit(1);
  }

  const logger = createLogger(config, options.name);
  if (config.authDisabled) {
    logger.warn(prepared.notice ?? '!!! AUTH_DISABLED=true: credential checks are OFF; anyone who can reach these ports may publish and subscribe. !!!');
  }

  let started: Started | undefined;
  try {
    started = await options.start({ config, logger });
    for (const s of started.servers) {
      const address = await s.app.listen({ host: config.host, port: s.port });
      logger.info({ service: s.name, address }, `${s.name} listening`);
    }
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    if (started) {
      await Promise.allSettled(started.servers.map((s) => s.app.close()));
      await started.close();
    }
    return proc.exit(1);
  }

  const running = started;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      proc.exit(1);
    }
    stopping = true;
    const windowMs = config.drainWindowSeconds * 1000;
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      proc.exit(1);
    }, windowMs + SHUTDOWN_GRACE_MS).unref();
    logger.info({ signal, drainWindowMs: windowMs }, 'draining');
    await shutdownServers(running.servers, windowMs, logger);
    await running.close();
    logger.info('stopped');
    proc.exit(0);
  };
  proc.on('SIGTERM', () => void shutdown('SIGTERM'));
  proc.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Readiness off and the listening sockets closed everywhere first (load
 * balancers stop sending; a replacement may bind the port), then long-lived
 * connections closed spread over the window, then each app closed
 * (in-flight publishes finish), then their tracked work awaited. Only then
 * may the caller close the engine: no event answered 200 is lost by a shutdown.
 */
async function shutdownServers(servers: Server[], windowMs: number, logger: Logger): Promise<void> {
  for (const s of servers) {
    s.lifecycle.startDraining();
    stopListening(s);
  }
  await Promise.all(
    servers.map(async (s) => {
      try {
        await s.drain?.(windowMs);
        // Publishes already accepted finish first (their 200 means stored)...
        await s.lifecycle.idle();
        const closing = s.app.close();
        // ...then keep-alive sockets are closed: an idle one would hold close() open for
        // fastify's 72 s keep-alive timeout, and requests sent on it meanwhile would hang.
        s.app.server.closeIdleConnections();
        const cut = setTimeout(() => s.app.server.closeAllConnections(), CLOSE_CONNECTIONS_AFTER_MS).unref();
        await closing;
        clearTimeout(cut);
        await s.lifecycle.idle();
      } catch (err) {
        logger.error({ err, service: s.name }, 'error while draining');
      }
    }),
  );
}

/**
 * Closes the listening socket now, not after the drain window: connections
 * already open stay and drain, while new ones go elsewhere at once. On one
 * host a restarted service can bind the same port immediately instead of
 * failing with EADDRINUSE for the whole window, and clients reconnecting
 * meanwhile reach it rather than get this process's 503 (a browser's
 * EventSource gives up for good on a non-200). Node also closes idle
 * keep-alive sockets here; fastify's later close() accepts a server
 * that is no longer listening.
 */
function stopListening(s: Server): void {
  s.app.server.close();
}

/** The checkout's or image's root (the folder with package.json), found from a module's URL whether it runs from services/ or dist/services/. */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
  return dir;
}
