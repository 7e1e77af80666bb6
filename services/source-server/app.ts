import type { AppDeps } from '../common/app-deps.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { frameworkErrorHandler } from '../common/framework-errors.js';
import { installErrorHandling, registerOpsRoutes } from '../common/http.js';
import { Lifecycle } from '../common/lifecycle.js';
import { Metrics } from '../common/metrics.js';
import { createPublishRateLimiter } from '../common/rate-limit/create-rate-limiter.js';
import type { RateLimiter } from '../common/rate-limit/rate-limiter.js';
import { publisherAuth } from './auth.js';
import { registerPublishCors } from './cors.js';
import { registerJsonTextParser } from './json-body.js';
import { Publisher } from './publisher.js';
import { registerPublishRateLimit } from './rate-limit.js';
import { registerPublishBatch } from './routes/publish-batch.js';
import { registerPublishOne } from './routes/publish-one.js';

/**
 * Longest `{channel}` path segment routed at all. Above fastify's default of
 * 100, so that a too-long channel name (the limit is 128) reaches the channel
 * check and is answered `invalid_channel`, not an uncoded 414.
 */
export const MAX_CHANNEL_PARAM_LENGTH = 1024;

/** Metrics and Lifecycle are readable later as `app.getDecorator<Metrics>('metrics')` / `('lifecycle')`. */
export interface SourceAppDeps extends AppDeps {
  /**
   * PUBLISH_RATE_LIMIT counter; main.ts passes one counted in Redis. Default:
   * in memory when PUBLISH_RATE_LIMIT is set, else none. `null`: none.
   */
  rateLimiter?: RateLimiter | null;
}

/**
 * The producers' HTTP API (PROTOCOL.md, Source server). Builds, never
 * listens: main.ts listens, and tests drive it with `app.inject()`.
 *
 * Shutdown: `lifecycle.startDraining()` makes publishes answer 503 and
 * /readyz 503; `app.close()` then waits for publishes in flight before it
 * resolves, after which the caller may close the bus.
 */
export function buildSourceApp(deps: SourceAppDeps): FastifyInstance {
  const { config, bus } = deps;
  const metrics = deps.metrics ?? new Metrics('source-server');
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  // Typed as fastify's base logger so the app is a plain FastifyInstance that shared helpers accept.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    routerOptions: { maxParamLength: MAX_CHANNEL_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler(metrics),
    // Each member of the union is a documented trustProxy form; fastify's overloads only take them one at a time.
    trustProxy: config.trustProxy as boolean,
  });
  app.decorate('metrics', metrics);
  app.decorate('lifecycle', lifecycle);

  installErrorHandling(app, metrics);
  registerJsonTextParser(app);
  registerOpsRoutes(app, { bus, lifecycle, metrics });
  registerPublishCors(app, config.publishAllowedOrigins);

  const publisher = new Publisher({ bus, lifecycle, metrics, logger: deps.logger, now: deps.now });
  const checkPublisher = publisherAuth(config);
  // One hook, in this order: receive time first (it is the event's ts and the
  // start of the latency measure), then credentials, then drain state; all
  // before the body is read, so a refused request costs no upload.
  const onRequest: onRequestHookHandler[] = [
    async (request, reply) => {
      publisher.markReceived(request);
      checkPublisher(request, reply);
      publisher.refuseWhileDraining();
    },
  ];
  const rateLimiter = deps.rateLimiter === undefined ? createPublishRateLimiter(config) : deps.rateLimiter;
  if (rateLimiter) registerPublishRateLimit(app, { limiter: rateLimiter, authDisabled: config.authDisabled });
  registerPublishOne(app, { config, publisher, onRequest });
  registerPublishBatch(app, { config, publisher, onRequest });

  app.addHook('onClose', () => lifecycle.idle());
  return app;
}
