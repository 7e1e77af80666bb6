import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildClientApp } from '../../services/client-server/app.js';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { openEngine } from '../../services/engine/create-engine.js';
import type { Engine } from '../../services/engine/engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startRedisServer, type RedisServerHandle } from '../../tools/redis-server.js';
import { eventually, sinkLogger } from '../support/recorder.js';
import { TestEventStream } from '../support/sse-client.js';
import { TestSocket } from '../support/ws-client.js';

/** MAX_CONNECTIONS_PER_IP over two client-servers on one Redis: one address gets the limit in total, not per process. */
const SECRET = 'shared-limit-secret-shared-limit-secret-0123';
let redis: RedisServerHandle;
const apps: FastifyInstance[] = [];
const engines: Engine[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  const config = loadConfig({ REDIS_URL: redis.url, SUBSCRIBER_JWT_SECRET: SECRET, MAX_CONNECTIONS_PER_IP: '2', LOG_LEVEL: 'warn' });
  for (let i = 0; i < 2; i++) {
    const { logger } = sinkLogger();
    const engine = await openEngine({ config, logger }, { subscribe: true });
    await eventually(() => engine.health().ok, 'the engine is ready');
    const app = await buildClientApp({ config, logger, engine });
    await app.listen({ host: '127.0.0.1', port: 0 });
    engines.push(engine);
    apps.push(app);
  }
});
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const engine of engines) await engine.close();
  await redis?.stop();
});

const url = (app: FastifyInstance) => `127.0.0.1:${(app.server.address() as { port: number }).port}`;
const token = () => signSubscriberToken(SECRET, { channels: ['*'], ttlSeconds: 600 });

describe('MAX_CONNECTIONS_PER_IP with two client-servers on one Redis', () => {
  test('counts an address\'s WebSockets and SSE streams on both together, and frees the slot when one closes', async () => {
    const [a, b] = apps;
    const socket = await TestSocket.open(`ws://${url(a!)}/v1/ws`, { token: token() });
    const stream = await TestEventStream.open(`http://${url(b!)}/v1/sse/news?token=${token()}`);
    expect(stream.status).toBe(200);
    const refused = (await TestSocket.open(`ws://${url(a!)}/v1/ws`, { token: token() }).catch((err: unknown) => err)) as { status?: number };
    expect(refused.status).toBe(429);
    const alsoRefused = await TestEventStream.open(`http://${url(b!)}/v1/sse/news?token=${token()}`);
    expect(alsoRefused.status).toBe(429);
    alsoRefused.close();
    socket.close();
    await eventually(async () => {
      const again = await TestSocket.open(`ws://${url(b!)}/v1/ws`, { token: token() }).catch(() => undefined);
      again?.close();
      return again !== undefined;
    }, 'the closed WebSocket\'s slot is free on the other client-server');
    stream.close();
  });
});
