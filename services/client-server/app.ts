import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SubscriberClaims } from '../common/auth/jwt.js';
import type { Bus } from '../common/bus/bus.js';
import type { Config } from '../common/config.js';
import { RelayError } from '../common/errors.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS, installErrorHandling, registerOpsRoutes } from '../common/http.js';
import { Lifecycle } from '../common/lifecycle.js';
import { Metrics } from '../common/metrics.js';
import { Connections } from './connections.js';
import { consoleRoutes } from './console-routes.js';
import { Hub } from './hub.js';
import { registerSse } from './sse.js';
import { authenticateSubscriber, originAllowed } from './subscriber-auth.js';
import { WsConnection } from './ws-connection.js';

export interface ClientAppDeps {
  config: Config;
  logger: Logger;
  bus: Bus;
  /** Default: a new registry for this app. */
  metrics?: Metrics;
  /** Default: a new Lifecycle. */
  lifecycle?: Lifecycle;
  /** Clock for token expiry; injected for tests. Default Date.now. */
  now?: () => number;
}

/** What main.ts needs to drain a client-server at shutdown. */
export interface ClientRelay {
  lifecycle: Lifecycle;
  metrics: Metrics;
  connections: Connections;
  hub: Hub;
  /** Readiness off, then every connection closed with 1001 spread over `windowMs`. */
  drain(windowMs: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    clientRelay: ClientRelay;
  }
  interface FastifyRequest {
    subscriberClaims?: SubscriberClaims;
  }
}

/** Builds the subscriber-facing app; never listens (main.ts does). */
export async function buildClientApp(deps: ClientAppDeps): Promise<FastifyInstance> {
  const { config, bus } = deps;
  const logger = deps.logger.child({ component: 'client-server' });
  const metrics = deps.metrics ?? new Metrics('client-server');
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const now = deps.now ?? Date.now;
  const hub = new Hub({ bus, logger, metrics, now });
  const connections = new Connections(config.heartbeatSeconds * 1000);

  // Typed as the base logger so that the app is a plain FastifyInstance for the shared helpers.
  const app: FastifyInstance = Fastify({ loggerInstance: logger as FastifyBaseLogger, return503OnClosing: true });
  const relay: ClientRelay = {
    lifecycle,
    metrics,
    connections,
    hub,
    async drain(windowMs) {
      lifecycle.startDraining();
      await connections.drain(windowMs);
    },
  };
  app.decorate('clientRelay', relay);
  installErrorHandling(app, metrics);
  registerOpsRoutes(app, { bus, lifecycle, metrics });

  await app.register(websocket, {
    options: {
      maxPayload: config.maxFrameBytes,
      // Compression costs CPU and memory per connection on every send; events are small. Off, like ws's own default.
      perMessageDeflate: false,
    },
    // Shutdown closes sockets itself, spread over the drain window (Connections.drain), not all at once.
    preClose: async () => {},
  });

  app.addHook('onClose', async () => connections.stop());

  app.get(
    '/v1/ws',
    {
      websocket: true,
      // Runs before the upgrade, so refusals are plain HTTP answers with coded bodies.
      preValidation: async (request) => {
        if (lifecycle.isDraining) {
          throw new RelayError('unavailable', 'Draining for shutdown; reconnect to another server.', { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS });
        }
        if (!originAllowed(request.headers.origin, config.allowedOrigins)) {
          throw new RelayError('forbidden', 'This origin is not allowed to connect (ALLOWED_ORIGINS).');
        }
        request.subscriberClaims = authenticateSubscriber(request, config, now());
      },
    },
    (socket, request) => {
      const connection = new WsConnection(socket, request.subscriberClaims!, { config, logger, bus, hub, metrics }, now());
      connections.add(connection);
    },
  );

  registerSse(app, { config, logger, bus, hub, metrics, lifecycle, connections, now });
  // The live console at / and the browser SDK at /sdk/eventrelay.js.
  await app.register(consoleRoutes);
  return app;
}
