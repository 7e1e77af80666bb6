// Entry point: the only file of this service that touches the process (through runMain).
import { readFileSync } from 'node:fs';
import { engineProblems, openEngine } from '../engine/create-engine.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { packageRoot, runMain } from '../runtime/run-main.js';
import { buildClientApp, clientCredentialProblems } from './app.js';
import { SubscriberKeys } from './auth/subscriber-keys.js';
import { ClientMetrics } from './client-metrics.js';
import { loadConsoleAssets } from './console/console-assets.js';

await runMain(process, {
  name: 'client-server',
  check: (config) => [...clientCredentialProblems(config), ...engineProblems(config, 'client-server')],
  async start({ config, logger }) {
    const metrics = new ClientMetrics();
    const lifecycle = new Lifecycle();
    // Before the engine: a key file that cannot be read or a JWKS that cannot be fetched stops the start with its variable's name.
    const subscriberKeys = await SubscriberKeys.load(config, { logger, now: Date.now, readFile: (path) => readFileSync(path, 'utf8') });
    const engine = await openEngine({ config, logger, registry: metrics.registry }, { subscribe: true });
    logger.info({ engine: engine.kind }, 'starting');
    const consoleAssets = loadConsoleAssets(packageRoot(import.meta.url));
    const app = await buildClientApp({ config, logger, engine, metrics, lifecycle, consoleAssets, subscriberKeys });
    const server = { name: 'client-server', app, port: config.clientPort, lifecycle, drain: (ms: number) => app.clientRelay.drain(ms) };
    return {
      servers: [server],
      close: async () => {
        subscriberKeys.close();
        await engine.close();
      },
    };
  },
});
