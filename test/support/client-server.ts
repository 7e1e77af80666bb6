import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { type Config } from '../../services/runtime/config/schema.js';
import { createLogger } from '../../services/runtime/logger.js';
import { buildClientApp } from '../../services/client-server/app.js';
import { engineOf } from './engines.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123';

export interface ClientFixture {
  app: FastifyInstance;
  bus: MemoryBus;
  config: Config;
  wsUrl: string;
  httpUrl: string;
  logs: string[];
  token(channels: string[], extra?: { ttlSeconds?: number }): string;
  publish(channel: string, data: unknown): Promise<string>;
  close(): Promise<void>;
}

/** A real client-server on a free port over a MemoryBus, its logs captured in a sink. */
export async function startClientServer(env: Record<string, string> = {}, now?: () => number): Promise<ClientFixture> {
  const config = loadConfig({ SUBSCRIBER_JWT_SECRET: SECRET, LOG_LEVEL: 'debug', ...env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(config, 'client-server', sink);
  const bus = new MemoryBus({ config, logger });
  const app = await buildClientApp({ config, logger, engine: engineOf(bus), now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    bus,
    config,
    logs,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    token: (channels, extra = {}) => signSubscriberToken(SECRET, { channels, ttlSeconds: extra.ttlSeconds }),
    async publish(channel, data) {
      const [result] = await bus.publish([{ channel, data: JSON.stringify(data), ts: Date.now() }]);
      return result!.id;
    },
    async close() {
      await app.close();
      await bus.close();
    },
  };
}
