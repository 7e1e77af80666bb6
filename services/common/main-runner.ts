import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildClientApp } from '../client-server/app.js';
import { buildSourceApp } from '../source-server/app.js';
import { createBus } from './bus/create-bus.js';
import { ConfigError, loadConfig, missingCredentials, type Config, type ServiceName } from './config.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { createPublishRateLimiter } from './rate-limit/create-rate-limiter.js';

export type Mode = ServiceName | 'embedded';

/** After a second signal, or when shutdown hangs this long past the drain window, the process exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000;
/** How long responses already being written get before the remaining HTTP sockets are cut at shutdown. */
const CLOSE_CONNECTIONS_AFTER_MS = 1000;

/**
 * The body of every main.ts: the only code that touches the process
 * (environment, files, signals, exit). main.ts hands `process` in.
 */
export async function runMain(proc: NodeJS.Process, mode: Mode): Promise<void> {
  const env = { ...proc.env };
  let autoDisabledAuth = false;
  if (mode === 'embedded' && !env.PUBLISHER_KEYS && !env.PUBLISHER_KEYS_FILE && !env.SUBSCRIBER_JWT_SECRET && !env.AUTH_DISABLED) {
    // PROTOCOL.md: the newcomer's `npm start` runs with auth off, and then only on this machine unless HOST says otherwise.
    env.AUTH_DISABLED = 'true';
    env.HOST ??= '127.0.0.1';
    // ...and the console page served by the client-server may publish test events.
    env.PUBLISH_ALLOWED_ORIGINS ??= `http://localhost:${env.CLIENT_PORT ?? 8081},http://127.0.0.1:${env.CLIENT_PORT ?? 8081}`;
    autoDisabledAuth = true;
  }

  let config: Config;
  try {
    config = loadConfig(env, { readFile: (path) => readFileSync(path, 'utf8'), isTty: Boolean(proc.stdout.isTTY) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    proc.stderr.write(`${mode}: ${err.message}\n`);
    proc.exit(1);
  }
  const services: ServiceName[] = mode === 'embedded' ? ['source-server', 'client-server'] : [mode];
  const problems = services.map((s) => missingCredentials(config, s)).filter((p): p is string => p !== undefined);
  if (mode !== 'embedded' && !config.redisUrl) {
    problems.push(`${mode} needs REDIS_URL (e.g. redis://localhost:6379); only the embedded mode (npm start) runs without Redis`);
  }
  if (problems.length) {
    proc.stderr.write(`${mode}: cannot start:\n  - ${problems.join('\n  - ')}\n`);
    proc.exit(1);
  }

  const logger = createLogger(config, mode === 'embedded' ? 'eventrelay' : mode);
  if (config.authDisabled) {
    logger.warn(
      autoDisabledAuth
        ? '!!! AUTH IS DISABLED: no PUBLISHER_KEYS or SUBSCRIBER_JWT_SECRET set, so anyone who can reach these ports may publish and subscribe. Listening on ' + config.host + ' only. Set credentials before exposing this. !!!'
        : '!!! AUTH_DISABLED=true: credential checks are OFF; anyone who can reach these ports may publish and subscribe. !!!',
    );
  }

  const sourceMetrics = services.includes('source-server') ? new Metrics('source-server') : undefined;
  const clientMetrics = services.includes('client-server') ? new Metrics('client-server') : undefined;
  const created = createBus({ config, logger, metrics: clientMetrics ?? sourceMetrics }, Boolean(clientMetrics));
  logger.info({ bus: created.kind, services }, 'starting');

  const started: { name: ServiceName; app: FastifyInstance; lifecycle: Lifecycle; port: number }[] = [];
  try {
    if (sourceMetrics) {
      const lifecycle = new Lifecycle();
      // Counted in the bus's Redis when there is one, so every replica shares the count; created.close() closes it.
      const rateLimiter = createPublishRateLimiter(config, created.redis) ?? null;
      const app = await buildSourceApp({ config, logger, bus: created.bus, metrics: sourceMetrics, lifecycle, rateLimiter });
      started.push({ name: 'source-server', app, lifecycle, port: config.sourcePort });
    }
    if (clientMetrics) {
      const lifecycle = new Lifecycle();
      const app = await buildClientApp({ config, logger, bus: created.bus, metrics: clientMetrics, lifecycle });
      started.push({ name: 'client-server', app, lifecycle, port: config.clientPort });
    }
    for (const s of started) {
      const address = await s.app.listen({ host: config.host, port: s.port });
      logger.info({ service: s.name, address }, `${s.name} listening`);
    }
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await Promise.allSettled(started.map((s) => s.app.close()));
    await created.close();
    proc.exit(1);
  }

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
    await shutdownApps(started, windowMs, logger);
    await created.close();
    logger.info('stopped');
    proc.exit(0);
  };
  proc.on('SIGTERM', () => void shutdown('SIGTERM'));
  proc.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Readiness off everywhere first (load balancers stop sending), then
 * subscriber connections closed spread over the window, then each app
 * closed (no new connections; in-flight publishes finish), then their
 * tracked work awaited. Only then may the caller close the bus: no event
 * answered 200 is lost by a shutdown.
 */
async function shutdownApps(
  apps: { name: ServiceName; app: FastifyInstance; lifecycle: Lifecycle }[],
  windowMs: number,
  logger: Logger,
): Promise<void> {
  for (const s of apps) s.lifecycle.startDraining();
  await Promise.all(
    apps.map(async (s) => {
      try {
        if (s.name === 'client-server') await s.app.clientRelay.drain(windowMs);
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
