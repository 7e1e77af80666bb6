import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { RelayError } from '../protocol/errors.js';
import type { Config } from '../runtime/config/schema.js';
import { frameworkErrorHandler, installErrorHandling } from '../runtime/http/errors.js';
import { registerOpsRoutes } from '../runtime/http/ops-routes.js';
import { installRequestLog, withoutFastifyRequestLogs } from '../runtime/http/request-log.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { SubscriberKeys } from './auth/subscriber-keys.js';
import { ClientMetrics } from './client-metrics.js';
import type { ConsoleAssets } from './console/console-assets.js';
import { registerConsole, type ConsoleConfigKey } from './console/console-routes.js';
import { Connections } from './connections.js';
import { Hub } from './hub.js';
import { ConnectionLimit } from './limits/connection-limit.js';
import { ConnectionsPerIp } from './limits/connections-per-ip.js';
import { OperatorCommands } from './operator-commands.js';
import { registerPusherEndpoint } from './pusher/pusher-route.js';
import { SessionsByUser } from './sessions-by-user.js';
import { corsHeaders } from './transports/sse/sse-cors.js';
import { registerSse } from './transports/sse/sse-route.js';
import { registerWs } from './transports/ws/ws-route.js';

/**
 * Retry-After of a connection refused by MAX_CONNECTIONS_PER_IP: long enough
 * that a reconnect loop does not hammer the server, short enough for a
 * client whose other tabs are closing to get in soon.
 */
export const CONNECTION_LIMIT_RETRY_AFTER_SECONDS = 5;

/**
 * ws's permessage-deflate with WS_COMPRESSION=on: no context takeover either
 * way, never compressing a send itself (threshold), and inflating client
 * messages (small control frames) through a 1 KiB output chunk instead of
 * zlib's 16 KiB default.
 */
const WS_DEFLATE_OPTIONS = { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: Infinity, zlibInflateOptions: { chunkSize: 1024 } };

const SUBSCRIBER_ROUTES = new Set(['/v1/ws', '/v1/sse/:channel', '/v1/sse']);

/** The configuration the client-server reads. */
export type ClientConfig = Pick<
  Config,
  | 'authDisabled'
  | 'subscriberJwtSecret'
  | 'subscriberJwksUrl'
  | 'subscriberJwtPublicKeyFile'
  | 'subscriberJwtIssuer'
  | 'subscriberJwtAudience'
  | 'allowedOrigins'
  | 'trustProxy'
  | 'heartbeatSeconds'
  | 'maxConnectionsPerIp'
  | 'maxFrameBytes'
  | 'maxBufferedBytes'
  | 'writeDelayMs'
  | 'writeMaxBytes'
  | 'wsCompression'
  | 'maxSubscriptionsPerConnection'
  | 'maxClientMessagesPerSecond'
  | 'clientMessagesBurst'
  | 'maxEventBytes'
  | ConsoleConfigKey
  | 'pusherApps'
>;

/** What the client-server is built from; the caller creates the engine and closes it after the app. */
export interface ClientAppDeps {
  config: ClientConfig;
  /** Becomes fastify's logger: one line per request and per closed connection at info, per-event lines at debug only. */
  logger: Logger;
  /** `noteCacheMiss` feeds the Pusher endpoint's cache_miss webhooks; absent (fixtures), none are recorded. */
  engine: Pick<Engine, 'bus' | 'health' | 'presence' | 'channels' | 'control' | 'publishRateLimiter' | 'connectionCounter'> & Partial<Pick<Engine, 'noteCacheMiss'>>;
  /** Default: a new registry for this app. */
  metrics?: ClientMetrics;
  /** Default: a new Lifecycle; main drains through it. */
  lifecycle?: Lifecycle;
  /** Wall clock (token expiry, delivery latency); injected for tests. Default Date.now. */
  now?: () => number;
  /** The console and SDK bundle read by main.ts; absent: those routes answer 404. */
  consoleAssets?: ConsoleAssets;
  /**
   * What subscriber tokens are checked against; main.ts loads them (it reads
   * SUBSCRIBER_JWT_PUBLIC_KEY_FILE) and closes them after the app. Default:
   * loaded here from `config` (no PEM file then), closed with the app.
   */
  subscriberKeys?: SubscriberKeys;
}

/** What main.ts needs to drain a client-server at shutdown, and tests to look inside. */
export interface ClientRelay {
  lifecycle: Lifecycle;
  metrics: ClientMetrics;
  connections: Connections;
  hub: Hub;
  /** Open sessions per token `sub` (operator disconnects). */
  users: SessionsByUser;
  /** Open subscriber connections per client address (MAX_CONNECTIONS_PER_IP). */
  connectionsPerIp: ConnectionsPerIp;
  /** Readiness off, then every connection closed with 1001 spread over `windowMs`. */
  drain(windowMs: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    clientRelay: ClientRelay;
  }
}

/** Builds the subscriber-facing app; never listens (main.ts does). */
export async function buildClientApp(deps: ClientAppDeps): Promise<FastifyInstance> {
  const { config, engine } = deps;
  const { bus } = engine;
  const logger = deps.logger.child({ component: 'client-server' });
  const metrics = deps.metrics ?? new ClientMetrics();
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const now = deps.now ?? Date.now;
  const hub = new Hub({ bus, presence: engine.presence, channels: engine.channels, logger, metrics, now });
  const users = new SessionsByUser();
  const operatorCommands = new OperatorCommands({ control: engine.control, users, logger });
  const connections = new Connections(config.heartbeatSeconds * 1000);
  const connectionsPerIp = new ConnectionsPerIp(config.maxConnectionsPerIp);
  const subscriberKeys = deps.subscriberKeys ?? (await SubscriberKeys.load(config, { logger, now }));
  const connectionLimit = new ConnectionLimit(connectionsPerIp, config.maxConnectionsPerIp, engine.connectionCounter, (err) =>
    logger.debug({ err }, 'the shared connection count is unreachable; this process\'s own count applies'),
  );

  // Typed as the base logger so that the app is a plain FastifyInstance for the shared helpers.
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    ...withoutFastifyRequestLogs(),
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
    users,
    connectionsPerIp,
    async drain(windowMs) {
      lifecycle.startDraining();
      await connections.drain(windowMs);
    },
  };
  app.decorate('clientRelay', relay);
  app.decorate('subscriberKeys', subscriberKeys);
  if (!deps.subscriberKeys) app.addHook('onClose', async () => subscriberKeys.close());
  installRequestLog(app);
  installErrorHandling(app, metrics);
  // Not ready until operator disconnects are heard: a disconnect answered meanwhile would miss this replica.
  const health = { health: () => (operatorCommands.problem() ? { ok: false, reason: operatorCommands.problem() } : engine.health()) };
  registerOpsRoutes(app, { health, lifecycle, metrics });
  operatorCommands.start();

  await app.register(websocket, {
    options: {
      maxPayload: config.maxFrameBytes,
      // Off by default, like ws's own default. WS_COMPRESSION=on: negotiated (ws-route.ts picks the
      // offer), but ws never deflates a message of ours: events are compressed once for every socket
      // (ws-deflate.ts) and replies go uncompressed; ws only inflates what clients compress.
      perMessageDeflate: config.wsCompression === 'on' ? WS_DEFLATE_OPTIONS : false,
    },
    // Shutdown closes sockets itself, spread over the drain window (Connections.drain), not all at once.
    preClose: async () => {},
  });

  app.addHook('onClose', async () => {
    connections.stop();
    await operatorCommands.stop();
  });

  // MAX_CONNECTIONS_PER_IP, before the upgrade or the stream: a slot is held
  // from here until the socket (WebSocket) or the response (SSE) closes,
  // whatever happens in between, so refusals and failed upgrades give it back.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || !SUBSCRIBER_ROUTES.has(request.routeOptions.url ?? '')) return;
    const release = await connectionLimit.acquire(request.ip);
    if (!release) {
      // The page must be able to read the refusal's code, as for any other SSE answer.
      if (!request.ws) reply.headers(corsHeaders(request.headers.origin, config.allowedOrigins));
      throw new RelayError('rate_limited', 'Too many connections from this address (MAX_CONNECTIONS_PER_IP); close some or retry later.', {
        retryAfter: CONNECTION_LIMIT_RETRY_AFTER_SECONDS,
      });
    }
    // The client may have gone while the shared count answered: its close event is past.
    if (request.raw.socket.destroyed) release();
    else if (request.ws) request.raw.socket.once('close', release);
    else reply.raw.once('close', release);
  });

  const transportDeps = { config, logger, bus, hub, users, metrics, lifecycle, connections, now, publishRateLimiter: engine.publishRateLimiter };
  registerWs(app, transportDeps);
  registerSse(app, transportDeps);
  registerConsole(app, deps.consoleAssets ?? { files: new Map() }, config);
  if (config.pusherApps.length > 0) registerPusherEndpoint(app, { ...transportDeps, engine: pusherEngine(engine), connectionLimit });
  return app;
}

/** The engine the Pusher endpoint uses; without noteCacheMiss (a fixture's engine) cache misses are not recorded for webhooks. */
function pusherEngine(engine: ClientAppDeps['engine']): Pick<Engine, 'bus' | 'presence' | 'control' | 'noteCacheMiss'> {
  return { bus: engine.bus, presence: engine.presence, control: engine.control, noteCacheMiss: engine.noteCacheMiss?.bind(engine) ?? (async () => {}) };
}

/**
 * PROTOCOL.md, Auth and Tokens v1.1: the client-server needs a way to verify
 * tokens (any of the three) unless AUTH_DISABLED=true.
 */
export function clientCredentialProblems(
  config: Pick<Config, 'authDisabled' | 'subscriberJwtSecret' | 'subscriberJwksUrl' | 'subscriberJwtPublicKeyFile'>,
): string[] {
  const { authDisabled, subscriberJwtSecret, subscriberJwksUrl, subscriberJwtPublicKeyFile } = config;
  if (authDisabled || subscriberJwtSecret !== undefined || subscriberJwksUrl !== undefined || subscriberJwtPublicKeyFile !== undefined) return [];
  return [
    'client-server needs SUBSCRIBER_JWT_SECRET (at least 32 characters), SUBSCRIBER_JWKS_URL or SUBSCRIBER_JWT_PUBLIC_KEY_FILE to verify subscriber tokens, or AUTH_DISABLED=true for local development',
  ];
}
