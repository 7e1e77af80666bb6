import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../protocol/close-codes.js';
import { RelayError, drainingError, isRelayError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';
import type { ClientMetrics } from '../../client-metrics.js';
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
    /** Why a browser's credentials were refused: the upgrade is accepted and closed with 4001 and this reason. */
    subscriberRefusal?: string;
    /** The window our compressed frames may use, when this upgrade agreed to permessage-deflate (ws-deflate.ts). */
    deflateBits?: number;
  }
}

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;
/** A refused browser that never answers the close frame is cut off after this; it holds a connection slot meanwhile. */
const REFUSAL_CLOSE_TIMEOUT_MS = 5000;

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
        try {
          request.subscriberClaims = await authenticateSubscriber(request, config, now());
        } catch (err) {
          // PROTOCOL.md allows "the socket is closed at once with 4001": a browser cannot
          // read a 401 at the upgrade (it sees 1006 and retries forever), but it can read a
          // close code and reason. A request with an Origin header comes from a page; every
          // other client keeps the plain 401 with its coded body.
          if (request.headers.origin === undefined || !isRelayError(err) || err.code !== 'unauthorized') throw err;
          deps.metrics.errors.inc({ code: err.code });
          request.log.debug({ code: err.code }, err.message);
          request.subscriberRefusal = err.message;
        }
      },
    },
    (socket, request) => {
      releaseUpgradeRequest(socket);
      if (request.subscriberRefusal !== undefined) return refuse(socket, request.subscriberRefusal);
      const deflateBits = request.deflateBits !== undefined && socket.extensions.includes(EXTENSION) ? request.deflateBits : 0;
      connections.add(new WsConnection(socket, request.subscriberClaims!, connectionDeps, deflateBits));
    },
  );
}

/** Closes an accepted upgrade whose credentials were refused: 4001 with the reason, nothing else sent. */
function refuse(socket: WebSocket, reason: string): void {
  // ws requires an error listener; a refused socket has nothing to report.
  socket.on('error', () => {});
  socket.close(CloseCode.unauthorized, closeReason(reason));
  const timer = setTimeout(() => socket.terminate(), REFUSAL_CLOSE_TIMEOUT_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  // Cut on a character boundary, with an ellipsis so that the cut is visible.
  let cut = bytes.subarray(0, MAX_CLOSE_REASON_BYTES - 3).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}...`;
}
