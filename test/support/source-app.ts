import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { onTestFinished } from 'vitest';
import type { Logger } from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Bus } from '../../services/engine/bus.js';
import type { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { createMemoryEngine, type MemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig, type Env } from '../../services/runtime/config/load.js';
import { type Config } from '../../services/runtime/config/schema.js';
import { Lifecycle } from '../../services/runtime/lifecycle.js';
import { createLogger } from '../../services/runtime/logger.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { SourceMetrics } from '../../services/source-server/source-metrics.js';

export const PUBLISHER_KEY = 'test-publisher-key-0123456789';
export const AUTH = { authorization: `Bearer ${PUBLISHER_KEY}` };
export const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface TestSource {
  app: FastifyInstance;
  /** The engine the app runs on (its presence and channels stand for every client-server's), closed with the app. */
  engine: MemoryEngine;
  bus: MemoryBus;
  config: Config;
  /** The pino logger the app was given, writing into `logs`. */
  logger: Logger;
  lifecycle: Lifecycle;
  metrics: SourceMetrics;
  /** Every line the app logged, parsed; the raw text too, to search for secrets. */
  logs: LogLine[];
  rawLogs: string[];
  /** Every event held in `channel`'s history, as parsed WebSocket frames. */
  stored(channel: string): Promise<Record<string, unknown>[]>;
}

export interface TestSourceOptions {
  env?: Env;
  /** Wraps the MemoryBus, to simulate failures. */
  wrapBus?: (bus: MemoryBus) => Bus;
  now?: () => number;
}

/** A source app on a MemoryBus, with a logger writing into an inspectable sink; closed by the caller. */
export function testSource(options: TestSourceOptions = {}): TestSource {
  const config = loadConfig({ PUBLISHER_KEYS: PUBLISHER_KEY, LOG_LEVEL: 'debug', ...options.env });
  const rawLogs: string[] = [];
  const logs: LogLine[] = [];
  const logger = createLogger(config, 'source-server', {
    write(line: string) {
      rawLogs.push(line);
      logs.push(JSON.parse(line) as LogLine);
    },
  });
  // As main.ts builds it, so that PUBLISH_RATE_LIMIT gets the engine's (in-memory) limiter.
  const engine = createMemoryEngine({ config, logger });
  const bus = engine.bus;
  const lifecycle = new Lifecycle();
  const metrics = new SourceMetrics({ defaultMetrics: false });
  const wrapped = options.wrapBus?.(bus);
  const served = wrapped ? { ...engine, bus: wrapped, health: () => wrapped.health() } : engine;
  const app = buildSourceApp({ config, logger, engine: served, lifecycle, metrics, now: options.now });
  app.addHook('onClose', () => engine.close());
  return {
    app,
    engine,
    bus,
    config,
    logger,
    lifecycle,
    metrics,
    logs,
    rawLogs,
    async stored(channel) {
      const { events } = await bus.history(channel, '0-0');
      return events.map((e) => JSON.parse(encodeEventMessage(e).toString()) as Record<string, unknown>);
    },
  };
}

/** POST one event with a valid key unless headers say otherwise. */
export function publish(app: FastifyInstance, channel: string, body: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/channels/${channel}/events`, headers: { ...JSON_HEADERS, ...headers }, payload: body });
}

export function publishBatch(app: FastifyInstance, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...JSON_HEADERS, ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function errorCode(response: LightMyRequestResponse): string | undefined {
  return (response.json() as { error?: { code?: string } }).error?.code;
}

/** testSource, closed when the current test finishes. */
export function useSource(options: TestSourceOptions = {}): TestSource {
  const source = testSource(options);
  onTestFinished(() => source.app.close());
  return source;
}
