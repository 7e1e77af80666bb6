import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildClientApp } from '../../services/client-server/app.js';
import { loadConsoleAssets } from '../../services/client-server/console/console-assets.js';
import { ClientMetrics } from '../../services/client-server/client-metrics.js';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { SourceMetrics } from '../../services/source-server/source-metrics.js';
import { REPO_ROOT } from './manifests.js';

/** Port 9 (discard) on loopback: a webhook receiver that is never called. */
const UNCALLED_WEBHOOK_URL = 'http://127.0.0.1:9/webhooks';

/**
 * Both apps built as their main.ts files build them (each its own engine and
 * metrics registry, the engine's families registered on it, Node's default
 * metrics on, the console and SDK assets loaded), on the in-memory engine
 * with webhooks configured (never called: nothing here changes occupancy or
 * presence) so that every family a deployment can export is exported: what
 * the manifest and dashboard checks compare the shipped files with. Never
 * listening; driven with inject().
 */
export interface RelayApps {
  apps: { 'source-server': FastifyInstance; 'client-server': FastifyInstance };
  close(): Promise<void>;
}

export async function buildRelayApps(): Promise<RelayApps> {
  const config = loadConfig({ AUTH_DISABLED: 'true', WEBHOOK_URLS: UNCALLED_WEBHOOK_URL, WEBHOOK_SECRET: 'relay-apps-webhook-secret-0123456789' });
  const logger = pino({ level: 'silent' });
  const sourceMetrics = new SourceMetrics();
  const clientMetrics = new ClientMetrics();
  const sourceEngine = createEngine({ config, logger, registry: sourceMetrics.registry }, { subscribe: false });
  const clientEngine = createEngine({ config, logger, registry: clientMetrics.registry }, { subscribe: true });
  const source = buildSourceApp({ config, logger, engine: sourceEngine, metrics: sourceMetrics });
  const client = await buildClientApp({ config, logger, engine: clientEngine, metrics: clientMetrics, consoleAssets: loadConsoleAssets(REPO_ROOT) });
  await Promise.all([source.ready(), client.ready()]);
  return {
    apps: { 'source-server': source, 'client-server': client },
    async close() {
      await Promise.all([source.close(), client.close()]);
      await Promise.all([sourceEngine.close(), clientEngine.close()]);
    },
  };
}

/** A route as fastify's router holds it: the path pattern (`/v1/sse/:channel`) and its methods. */
export interface AppRoute {
  path: string;
  methods: string[];
}

/**
 * Every route of a built app, read from fastify's route tree
 * (`printRoutes({ commonPrefix: false })`: one node per line, children
 * indented four columns under the node whose path they extend).
 */
export function appRoutes(app: FastifyInstance): AppRoute[] {
  const routes: AppRoute[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + match[2]!;
    stack.length = depth;
    stack.push(path);
    if (match[3]) routes.push({ path, methods: match[3].split(', ') });
  }
  return routes;
}
