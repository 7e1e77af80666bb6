// Entry point: the only file of this service that touches the process (through runMain).
import { engineProblems, openEngine } from '../engine/create-engine.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { Metrics } from '../runtime/metrics.js';
import { packageRoot, runMain } from '../runtime/run-main.js';
import { buildClientApp, clientCredentialProblems } from './app.js';
import { loadConsoleAssets } from './console/console-assets.js';

await runMain(process, {
  name: 'client-server',
  check: (config) => [...clientCredentialProblems(config), ...engineProblems(config, 'client-server')],
  async start({ config, logger }) {
    const metrics = new Metrics('client-server');
    const lifecycle = new Lifecycle();
    const engine = await openEngine({ config, logger, metrics }, { subscribe: true });
    logger.info({ engine: engine.kind }, 'starting');
    const consoleAssets = loadConsoleAssets(packageRoot(import.meta.url));
    const app = await buildClientApp({ config, logger, engine, metrics, lifecycle, consoleAssets });
    const server = { name: 'client-server', app, port: config.clientPort, lifecycle, drain: (ms: number) => app.clientRelay.drain(ms) };
    return { servers: [server], close: () => engine.close() };
  },
});
