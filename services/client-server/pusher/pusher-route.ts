import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Engine } from '../../engine/engine.js';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import type { Config } from '../../runtime/config/schema.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import type { ClientMetrics as Metrics } from '../client-metrics.js';
import { PusherCode, protocolRefusal, type PusherRefusal } from '../../protocol/pusher/codes.js';
import { errorMessage } from '../../protocol/pusher/messages.js';
import { originAllowed } from '../auth/subscriber-auth.js';
import type { Connections } from '../connections.js';
import type { Hub } from '../hub.js';
import type { ConnectionLimit } from '../limits/connection-limit.js';
import { releaseUpgradeRequest } from '../transports/ws/ws-upgrade.js';
import { WriteBatcher } from '../transports/ws/write-batcher.js';
import { cacheMissReporter } from './cache-misses.js';
import { PusherConnection } from './pusher-connection.js';
import type { PusherContext } from './pusher-context.js';
import { PusherPresenceRooms } from './presence-room.js';
import { SignedInUsers } from './signed-in-users.js';
import { listenForTerminations } from './terminations.js';

export interface PusherEndpointDeps {
  config: PusherContext['config'] & Pick<Config, 'pusherApps' | 'allowedOrigins' | 'writeDelayMs' | 'writeMaxBytes'>;
  engine: Pick<Engine, 'bus' | 'presence' | 'control' | 'noteCacheMiss'>;
  hub: Hub;
  metrics: Metrics;
  logger: Logger;
  lifecycle: Lifecycle;
  connections: Connections;
  /** MAX_CONNECTIONS_PER_IP, counted across client-servers when the engine keeps a shared count. */
  connectionLimit: Pick<ConnectionLimit, 'acquire'>;
  now: () => number;
}

/**
 * The Pusher Channels endpoint `ws /app/{key}` (docs/pusher.md), next to
 * `/v1/ws` on the same hub: a Pusher socket's channel is the native channel
 * `pusher:<app id>:<name>`, so both protocols share one bus subscription,
 * one history and one presence. Every refusal is made after the upgrade, as
 * a `pusher:error` and a Pusher close code: pusher-js retries an HTTP
 * refusal of the upgrade forever.
 */
export function registerPusherEndpoint(app: FastifyInstance, deps: PusherEndpointDeps): void {
  const { config, engine, logger, metrics, lifecycle, connections, connectionLimit } = deps;
  const byKey = new Map(config.pusherApps.map((a) => [a.key, a] as const));
  const delivered = metrics.eventsDelivered.labels({ transport: 'pusher' });
  const rooms = new PusherPresenceRooms(engine.presence, logger);
  deps.hub.observePresence(rooms);
  const users = new SignedInUsers();
  const ctx: PusherContext = {
    config,
    hub: deps.hub,
    bus: engine.bus,
    presence: engine.presence,
    rooms,
    users,
    metrics,
    logger: logger.child({ component: 'pusher' }),
    writes: new WriteBatcher(config, (n) => delivered.inc(n)),
    now: deps.now,
    cacheMiss: cacheMissReporter(engine, logger, deps.now),
  };
  const terminations = listenForTerminations(engine.control, users, ctx.logger);
  app.addHook('onClose', () => terminations.stop());

  // No permessage-deflate here, whatever WS_COMPRESSION says: frames are written whole beside ws's own
  // (the batcher), which is only in order while ws compresses nothing; pusher-js works either way.
  const noExtensions = async (request: FastifyRequest) => {
    delete request.raw.headers['sec-websocket-extensions'];
  };
  app.get('/app/:key', { websocket: true, onRequest: noExtensions }, (socket: WebSocket, request: FastifyRequest) => {
    releaseUpgradeRequest(socket);
    socket.on('error', (err: Error) => ctx.logger.debug({ err }, 'pusher websocket error before the handshake'));
    const pusherApp = byKey.get((request.params as { key: string }).key);
    const refusal = refusalOf(request, pusherApp, config.allowedOrigins, lifecycle.isDraining);
    if (refusal) return refuse(socket, refusal, metrics);
    // pusher-js sends nothing before connection_established, so nothing is missed while the shared count answers.
    void connectionLimit.acquire(request.ip).then((release) => {
      if (!release) return refuse(socket, { code: PusherCode.overCapacity, message: 'Too many connections from this address (MAX_CONNECTIONS_PER_IP)' }, metrics);
      // The client may have gone meanwhile: its close event is past.
      if (socket.readyState !== socket.OPEN) return release();
      socket.once('close', release);
      connections.add(new PusherConnection(socket, pusherApp!, ctx));
    });
  });
}

/** In the order soketi and sockudo check: the app, enabled, the protocol, the origin, this process's state. */
function refusalOf(request: FastifyRequest, app: PusherApp | undefined, allowedOrigins: readonly string[], draining: boolean): PusherRefusal | undefined {
  if (!app) return { code: PusherCode.appNotFound, message: 'Application does not exist' };
  if (!app.enabled) return { code: PusherCode.appDisabled, message: 'Application is disabled' };
  const protocol = protocolRefusal((request.query as { protocol?: string }).protocol);
  if (protocol) return protocol;
  if (!originAllowed(request.headers.origin, allowedOrigins)) return { code: PusherCode.unauthorized, message: 'This origin is not allowed to connect (ALLOWED_ORIGINS)' };
  // Not 4200: a client reconnecting at once would come back to this draining process in a loop.
  if (draining) return { code: PusherCode.overCapacity, message: 'Server shutting down; reconnect shortly' };
  return undefined;
}

/** `pusher:error` then the close: the reason is visible to clients that read either. */
function refuse(socket: WebSocket, refusal: PusherRefusal, metrics: Metrics): void {
  metrics.errors.inc({ code: `pusher_${refusal.code}` });
  socket.send(errorMessage(refusal.code, refusal.message));
  socket.close(refusal.code, refusal.message);
}
