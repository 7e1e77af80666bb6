import Fastify, { type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Config } from '../runtime/config/schema.js';
import { frameworkErrorHandler, installErrorHandling } from '../runtime/http/errors.js';
import { registerOpsRoutes } from '../runtime/http/ops-routes.js';
import { installRequestLog, withoutFastifyRequestLogs } from '../runtime/http/request-log.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { PublisherAuth } from './plugins/auth.js';
import { registerPublishCors } from './plugins/cors.js';
import { registerJsonTextParser } from './plugins/json-body.js';
import { registerPublishRateLimit } from './plugins/rate-limit.js';
import { Publisher } from './publisher.js';
import { registerPusherApi } from './pusher/pusher-api.js';
import { registerPublishBatch } from './routes/publish-batch.js';
import { registerPublishOne } from './routes/publish-one.js';
import { registerServerApi } from './routes/server-api/server-api.js';
import { SourceMetrics } from './source-metrics.js';

/**
 * Longest `{channel}` path segment routed at all. Above fastify's default of
 * 100, so that a too-long channel name (the limit is 128) reaches the channel
 * check and is answered `invalid_channel`, not an uncoded 414.
 */
export const MAX_CHANNEL_PARAM_LENGTH = 1024;

/** The configuration the source-server reads. */
export type SourceConfig = Pick<
  Config,
  'authDisabled' | 'publisherKeys' | 'publishAllowedOrigins' | 'trustProxy' | 'maxEventBytes' | 'maxBatchEvents' | 'pusherApps'
>;

/** What the source-server uses of the engine: the bus to publish and read history, and the shared state the server API reads. */
export type SourceEngine = Pick<Engine, 'bus' | 'publishRateLimiter' | 'health' | 'channels' | 'presence' | 'control'>;

/** What the source-server is built from; the caller creates the engine and closes it after the app. */
export interface SourceAppDeps {
  config: SourceConfig;
  /** Becomes fastify's logger: one line per request at info (request-log.ts), per-event lines at debug only. */
  logger: Logger;
  engine: SourceEngine;
  /** Default: a new registry for this app. */
  metrics?: SourceMetrics;
  /** Default: a new Lifecycle; main drains through it. */
  lifecycle?: Lifecycle;
  /** Wall clock of event `ts`; injected for tests. Default Date.now. */
  now?: () => number;
}

/**
 * The producers' HTTP API (PROTOCOL.md, Source server) and the v1.1 server
 * API (history, channel stats, presence, disconnects), both behind the
 * publisher key. Builds, never listens: main.ts listens, and tests drive it
 * with `app.inject()`.
 *
 * Shutdown: `lifecycle.startDraining()` makes publishes (and disconnects)
 * answer 503 and /readyz 503, while server API reads go on; `app.close()`
 * then waits for publishes and reads in flight before it resolves, after
 * which the caller may close the engine.
 * Metrics and Lifecycle are readable later as `app.getDecorator<SourceMetrics>('metrics')` / `('lifecycle')`.
 */
export function buildSourceApp(deps: SourceAppDeps): FastifyInstance {
  const { config, engine } = deps;
  const metrics = deps.metrics ?? new SourceMetrics();
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  // Typed as fastify's base logger so the app is a plain FastifyInstance that shared helpers accept.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    ...withoutFastifyRequestLogs(),
    routerOptions: { maxParamLength: MAX_CHANNEL_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler(metrics),
    // Each member of the union is a documented trustProxy form; fastify's overloads only take them one at a time.
    trustProxy: config.trustProxy as boolean,
  });
  app.decorate('metrics', metrics);
  app.decorate('lifecycle', lifecycle);

  installRequestLog(app);
  installErrorHandling(app, metrics);
  registerJsonTextParser(app);
  registerOpsRoutes(app, { health: engine, lifecycle, metrics });
  registerPublishCors(app, config.publishAllowedOrigins);

  const publisher = new Publisher({ bus: engine.bus, lifecycle, metrics, logger: deps.logger, now: deps.now });
  const auth = new PublisherAuth(config);
  // One hook, in this order: receive time first (it is the event's ts and the
  // start of the latency measure), then credentials, then drain state; all
  // before the body is read, so a refused request costs no upload.
  const onRequest: onRequestHookHandler[] = [
    async (request, reply) => {
      publisher.markReceived(request);
      auth.check(request, reply);
      publisher.refuseWhileDraining();
    },
  ];
  if (engine.publishRateLimiter) registerPublishRateLimit(app, { limiter: engine.publishRateLimiter, authDisabled: config.authDisabled });
  registerPublishOne(app, { config, publisher, auth, onRequest });
  registerPublishBatch(app, { config, publisher, auth, onRequest });
  registerServerApi(app, { engine, lifecycle, onRequest: [async (request, reply) => auth.check(request, reply)] });
  if (config.pusherApps.length > 0) registerPusherApi(app, { config, engine, publisher, metrics, logger: deps.logger, now: deps.now ?? Date.now });

  app.addHook('onClose', () => lifecycle.idle());
  return app;
}

/** PROTOCOL.md, Auth: the source-server needs publisher keys unless AUTH_DISABLED=true. */
export function sourceCredentialProblems(config: Pick<Config, 'authDisabled' | 'publisherKeys'>): string[] {
  if (config.authDisabled || config.publisherKeys.length > 0) return [];
  return ['source-server needs publisher keys: set PUBLISHER_KEYS (comma separated) or PUBLISHER_KEYS_FILE, or AUTH_DISABLED=true for local development'];
}
