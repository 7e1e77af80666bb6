import type { FastifyInstance } from 'fastify';
import { RelayError, drainingError } from '../../protocol/errors.js';
import type { Lifecycle } from '../lifecycle.js';
import type { ServiceMetrics } from '../metrics.js';
import { sendError } from './errors.js';

/** Why the app cannot serve right now (the engine's health), or ok. */
export interface HealthSource {
  health(): { ok: boolean; reason?: string };
}

export interface OpsDeps {
  health: HealthSource;
  lifecycle: Lifecycle;
  metrics: ServiceMetrics;
}

/** GET /healthz (alive), /readyz (can serve), /metrics (Prometheus). */
export function registerOpsRoutes(app: FastifyInstance, { health, lifecycle, metrics }: OpsDeps): void {
  // While draining, every answer closes its connection: a keep-alive client
  // would otherwise hold the server open (fastify keeps idle sockets 72 s)
  // and never learn to go elsewhere.
  app.addHook('onRequest', async (_request, reply) => {
    if (lifecycle.isDraining) reply.header('connection', 'close');
  });
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    if (lifecycle.isDraining) return sendError(reply, drainingError());
    const state = health.health();
    if (!state.ok) return sendError(reply, new RelayError('unavailable', `Not ready: ${state.reason ?? 'bus unavailable'}.`));
    return { status: 'ready' };
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
