import websocket from '@fastify/websocket';
import type { AppDeps } from '../common/app-deps.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { SubscriberClaims } from '../common/auth/jwt.js';
import { RelayError } from '../common/errors.js';
import { frameworkErrorHandler } from '../common/framework-errors.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS, installErrorHandling, registerOpsRoutes } from '../common/http.js';
import { Lifecycle } from '../common/lifecycle.js';
import { Metrics } from '../common/metrics.js';
import { ConnectionsPerIp } from '../common/rate-limit/connections-per-ip.js';
import { Connections } from './connections.js';
import { consoleRoutes } from './console-routes.js';
import { Hub } from './hub.js';
import { corsHeaders, registerSse } from './sse.js';
import { authenticateSubscriber, originAllowed } from './subscriber-auth.js';
import { WsConnection } from './ws-connection.js';
import { releaseUpgradeRequest } from './ws-upgrade.js';

/**
 * Retry-After of a connection refused by MAX_CONNECTIONS_PER_IP: long enough
 * that a reconnect loop does not hammer the server, short enough for a
 * client whose other tabs are closing to get in soon.
 */
export const CONNECTION_LIMIT_RETRY_AFTER_SECONDS = 5;

const SUBSCRIBER_ROUTES = new Set(['/v1/ws', '/v1/sse/:channel']);

export type ClientAppDeps = AppDeps;

/** What main.ts needs to drain a client-server at shutdown. */
export interface ClientRelay {
  lifecycle: Lifecycle;
  metrics: Metrics;
  connections: Connections;
  hub: Hub;
  /** Open subscriber connections per client address (MAX_CONNECTIONS_PER_IP). */
  connectionsPerIp: ConnectionsPerIp;
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
  const connectionsPerIp = new ConnectionsPerIp(config.maxConnectionsPerIp);

  // Typed as the base logger so that the app is a plain FastifyInstance for the shared helpers.
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler(metrics),
    // Each member of the union is a documented trustProxy form; fastify's overloads only take them one at a time.
    trustProxy: config.trustProxy as boolean,
  });
  const relay: ClientRelay = {
    lifecycle,
    metrics,
    connections,
    hub,
    connectionsPerIp,
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

  // MAX_CONNECTIONS_PER_IP, before the upgrade or the stream: a slot is held
  // from here until the socket (WebSocket) or the response (SSE) closes,
  // whatever happens in between, so refusals and failed upgrades give it back.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || !SUBSCRIBER_ROUTES.has(request.routeOptions.url ?? '')) return;
    const release = connectionsPerIp.acquire(request.ip);
    if (!release) {
      // The page must be able to read the refusal's code, as for any other SSE answer.
      if (!request.ws) reply.headers(corsHeaders(request.headers.origin, config.allowedOrigins));
      throw new RelayError('rate_limited', 'Too many connections from this address (MAX_CONNECTIONS_PER_IP); close some or retry later.', {
        retryAfter: CONNECTION_LIMIT_RETRY_AFTER_SECONDS,
      });
    }
    if (request.ws) request.raw.socket.once('close', release);
    else reply.raw.once('close', release);
  });

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
      releaseUpgradeRequest(socket);
      const connection = new WsConnection(socket, request.subscriberClaims!, { config, logger, bus, hub, metrics }, now());
      connections.add(connection);
    },
  );

  registerSse(app, { config, logger, bus, hub, metrics, lifecycle, connections, now });
  // The live console at / and the browser SDK at /sdk/eventrelay.js.
  await app.register(consoleRoutes);
  return app;
}
