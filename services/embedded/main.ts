// Entry point of `npm start`: both apps in one process on one engine (in-memory
// without REDIS_URL). The only file of this mode that touches the process (through runMain).
import { readFileSync } from 'node:fs';
import { buildClientApp, clientCredentialProblems } from '../client-server/app.js';
import { SubscriberKeys } from '../client-server/auth/subscriber-keys.js';
import { ClientMetrics } from '../client-server/client-metrics.js';
import { loadConsoleAssets } from '../client-server/console/console-assets.js';
import { openEngine } from '../engine/create-engine.js';
import type { Env } from '../runtime/config/load.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { packageRoot, runMain } from '../runtime/run-main.js';
import { buildSourceApp, sourceCredentialProblems } from '../source-server/app.js';
import { SourceMetrics } from '../source-server/source-metrics.js';

/**
 * PROTOCOL.md: the newcomer's `npm start` runs with auth off when no
 * credential is configured, and then only on this machine unless HOST says
 * otherwise; the console page served by the client-server may then publish
 * test events (publish CORS opened to its origin).
 */
function newcomerDefaults(env: Env): { env: Env; notice?: string } {
  const credentials = [env.PUBLISHER_KEYS, env.PUBLISHER_KEYS_FILE, env.SUBSCRIBER_JWT_SECRET, env.SUBSCRIBER_JWKS_URL, env.SUBSCRIBER_JWT_PUBLIC_KEY_FILE];
  if (credentials.some(Boolean) || env.AUTH_DISABLED) return { env };
  const host = env.HOST ?? '127.0.0.1';
  const port = env.CLIENT_PORT ?? '8081';
  return {
    env: {
      ...env,
      AUTH_DISABLED: 'true',
      HOST: host,
      PUBLISH_ALLOWED_ORIGINS: env.PUBLISH_ALLOWED_ORIGINS ?? `http://localhost:${port},http://127.0.0.1:${port}`,
    },
    notice: `!!! AUTH IS DISABLED: no PUBLISHER_KEYS or SUBSCRIBER_JWT_SECRET set, so anyone who can reach these ports may publish and subscribe. Listening on ${host} only. Set credentials before exposing this. !!!`,
  };
}

await runMain(process, {
  name: 'eventrelay',
  prepareEnv: newcomerDefaults,
  check: (config) => [...sourceCredentialProblems(config), ...clientCredentialProblems(config)],
  async start({ config, logger }) {
    const subscriberKeys = await SubscriberKeys.load(config, { logger, now: Date.now, readFile: (path) => readFileSync(path, 'utf8') });
    // Two registries on two ports, each with its own service's families; the one engine
    // registers its families on the client-server's, the service that subscribes.
    const sourceMetrics = new SourceMetrics();
    const clientMetrics = new ClientMetrics();
    const engine = await openEngine({ config, logger, registry: clientMetrics.registry }, { subscribe: true });
    logger.info({ engine: engine.kind, services: ['source-server', 'client-server'] }, 'starting');
    const [sourceLifecycle, clientLifecycle] = [new Lifecycle(), new Lifecycle()];
    const source = buildSourceApp({ config, logger, engine, metrics: sourceMetrics, lifecycle: sourceLifecycle });
    const consoleAssets = loadConsoleAssets(packageRoot(import.meta.url));
    const client = await buildClientApp({ config, logger, engine, metrics: clientMetrics, lifecycle: clientLifecycle, consoleAssets, subscriberKeys });
    return {
      servers: [
        { name: 'source-server', app: source, port: config.sourcePort, lifecycle: sourceLifecycle },
        { name: 'client-server', app: client, port: config.clientPort, lifecycle: clientLifecycle, drain: (ms) => client.clientRelay.drain(ms) },
      ],
      close: async () => {
        subscriberKeys.close();
        await engine.close();
      },
    };
  },
});
