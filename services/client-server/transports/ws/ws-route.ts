import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { RelayError, drainingError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';
import type { ClientMetrics } from '../../client-metrics.js';
import type { SubscriberClaims } from '../../auth/jwt.js';
import { authenticateSubscriber, originAllowed, type SubscriberAuthConfig } from '../../auth/subscriber-auth.js';
import type { Connections } from '../../connections.js';
import type { SessionDeps } from '../../session.js';
import { WsConnection, type WsConnectionDeps } from './ws-connection.js';
import { releaseUpgradeRequest } from './ws-upgrade.js';
import { WriteBatcher } from './write-batcher.js';

export interface WsRouteDeps extends SessionDeps, Omit<WsConnectionDeps, 'writes'> {
  config: WsConnectionDeps['config'] & SubscriberAuthConfig & Pick<Config, 'allowedOrigins'>;
  bus: WsConnectionDeps['bus'];
  logger: Logger;
  metrics: ClientMetrics;
  lifecycle: Lifecycle;
  connections: Connections;
  now: () => number;
}

/** PROTOCOL.md `GET /v1/ws`. Needs @fastify/websocket registered on `app`. */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the upgrade's preValidation for the WebSocket handler. */
    subscriberClaims?: SubscriberClaims;
  }
}

export function registerWs(app: FastifyInstance, deps: WsRouteDeps): void {
  const { config, lifecycle, connections, now } = deps;
  const delivered = deps.metrics.eventsDelivered.labels({ transport: 'ws' });
  const connectionDeps: WsConnectionDeps = { ...deps, writes: new WriteBatcher((n) => delivered.inc(n)) };
  app.get(
    '/v1/ws',
    {
      websocket: true,
      // Runs before the upgrade, so refusals are plain HTTP answers with coded bodies.
      preValidation: async (request) => {
        if (lifecycle.isDraining) throw drainingError();
        if (!originAllowed(request.headers.origin, config.allowedOrigins)) {
          throw new RelayError('forbidden', 'This origin is not allowed to connect (ALLOWED_ORIGINS).');
        }
        request.subscriberClaims = await authenticateSubscriber(request, config, now());
      },
    },
    (socket, request) => {
      releaseUpgradeRequest(socket);
      connections.add(new WsConnection(socket, request.subscriberClaims!, connectionDeps));
    },
  );
}
