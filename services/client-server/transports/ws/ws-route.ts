import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { RelayError, drainingError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';
import type { Metrics } from '../../../runtime/metrics.js';
import type { SubscriberClaims } from '../../auth/jwt.js';
import { authenticateSubscriber, originAllowed, type SubscriberAuthConfig } from '../../auth/subscriber-auth.js';
import type { Connections } from '../../connections.js';
import type { SessionDeps } from '../../session.js';
import { WsConnection, type WsConnectionDeps } from './ws-connection.js';
import { EXTENSION, negotiateDeflate } from './ws-deflate.js';
import { releaseUpgradeRequest } from './ws-upgrade.js';
import { WriteBatcher, type WriteBatcherConfig } from './write-batcher.js';

export interface WsRouteDeps extends SessionDeps, Omit<WsConnectionDeps, 'writes'> {
  config: WsConnectionDeps['config'] & SubscriberAuthConfig & WriteBatcherConfig & Pick<Config, 'allowedOrigins' | 'wsCompression'>;
  bus: WsConnectionDeps['bus'];
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  connections: Connections;
  now: () => number;
}

/** PROTOCOL.md `GET /v1/ws`. Needs @fastify/websocket registered on `app`. */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the upgrade's preValidation for the WebSocket handler. */
    subscriberClaims?: SubscriberClaims;
    /** The window our compressed frames may use, when this upgrade agreed to permessage-deflate (ws-deflate.ts). */
    deflateBits?: number;
  }
}

export function registerWs(app: FastifyInstance, deps: WsRouteDeps): void {
  const { config, lifecycle, connections, now } = deps;
  const delivered = deps.metrics.eventsDelivered.labels({ transport: 'ws' });
  const connectionDeps: WsConnectionDeps = { ...deps, writes: new WriteBatcher(config, (n) => delivered.inc(n)) };
  app.get(
    '/v1/ws',
    {
      websocket: true,
      // WS_COMPRESSION=on: we pick the offer (ws would answer one it cannot take with 400, not decline it)
      // and hand ws only that one, which it then answers with exactly our parameters.
      onRequest: async (request) => {
        if (config.wsCompression !== 'on') return;
        const headers = request.raw.headers;
        const agreement = negotiateDeflate(headers['sec-websocket-extensions']);
        if (agreement) {
          headers['sec-websocket-extensions'] = agreement.offer;
          request.deflateBits = agreement.windowBits;
        } else {
          delete headers['sec-websocket-extensions'];
        }
      },
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
      const deflateBits = request.deflateBits !== undefined && socket.extensions.includes(EXTENSION) ? request.deflateBits : 0;
      connections.add(new WsConnection(socket, request.subscriberClaims!, connectionDeps, deflateBits));
    },
  );
}
