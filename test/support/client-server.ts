import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Writable } from 'node:stream';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import type { Engine } from '../../services/engine/engine.js';
import type { MemoryBroker } from '../../services/engine/memory/memory-broker.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { type Config } from '../../services/runtime/config/schema.js';
import { createLogger } from '../../services/runtime/logger.js';
import { buildClientApp } from '../../services/client-server/app.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123';

/** PROTOCOL.md v1.1 claims a test token may carry besides `channels`. */
export interface TokenClaims {
  ttlSeconds?: number;
  sub?: string;
  publish?: string[];
  presence?: string[];
  info?: Record<string, unknown>;
}

/** Builds the engine a client-server runs on; the fixture closes it after the app. Default: a MemoryEngine of its own. */
export type EngineFactory = (deps: { config: Config; logger: Logger }) => Engine | Promise<Engine>;

export interface ClientFixture {
  app: FastifyInstance;
  engine: Engine;
  config: Config;
  wsUrl: string;
  httpUrl: string;
  logs: string[];
  token(channels: string[], extra?: TokenClaims): string;
  /** Publishes as the source-server would (no publisher); resolves with the id. */
  publish(channel: string, data: unknown): Promise<string>;
  close(): Promise<void>;
}

export interface ClientServerOptions {
  engine?: EngineFactory;
}

/** MemoryEngines on one broker: replicas of one deployment without Redis. */
export function memoryReplicas(broker: MemoryBroker): EngineFactory {
  return ({ config, logger }) => createMemoryEngine({ config, logger, broker });
}

/** A real client-server on a free port over an engine (a MemoryEngine unless `options.engine`), its logs captured in a sink. */
export async function startClientServer(env: Record<string, string> = {}, now?: () => number, options: ClientServerOptions = {}): Promise<ClientFixture> {
  const config = loadConfig({ SUBSCRIBER_JWT_SECRET: SECRET, LOG_LEVEL: 'debug', ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(config, 'client-server', sink);
  const engine = await (options.engine ?? (({ config: c, logger: l }) => createMemoryEngine({ config: c, logger: l })))({ config, logger });
  const app = await buildClientApp({ config, logger, engine, now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  // Operator commands are heard once the app is ready (a MemoryEngine: at once; Redis: once connected).
  for (let i = 0; i < 200 && (await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  return {
    app,
    engine,
    config,
    logs,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    token: (channels, extra = {}) => testToken(channels, extra),
    async publish(channel, data) {
      const [result] = await engine.bus.publish([{ channel, data: JSON.stringify(data), ts: Date.now() }]);
      return result!.id;
    },
    async close() {
      await app.close();
      await engine.close();
    },
  };
}

/** An HS256 subscriber token for SECRET. */
export function testToken(channels: string[], extra: TokenClaims = {}): string {
  const iat = Math.floor(Date.now() / 1000);
  const { ttlSeconds, ...claims } = extra;
  return signJwt(SECRET, { channels, iat, ...claims, ...(ttlSeconds === undefined ? {} : { exp: iat + ttlSeconds }) });
}
