// Entry point: the only file of this service that touches the process (through runMain).
import { engineProblems, openEngine } from '../engine/create-engine.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { runMain } from '../runtime/run-main.js';
import { buildSourceApp, sourceCredentialProblems } from './app.js';
import { SourceMetrics } from './source-metrics.js';

await runMain(process, {
  name: 'source-server',
  check: (config) => [...sourceCredentialProblems(config), ...engineProblems(config, 'source-server')],
  async start({ config, logger }) {
    const metrics = new SourceMetrics();
    const lifecycle = new Lifecycle();
    const engine = await openEngine({ config, logger, registry: metrics.registry }, { subscribe: false });
    logger.info({ engine: engine.kind }, 'starting');
    const app = buildSourceApp({ config, logger, engine, metrics, lifecycle });
    return { servers: [{ name: 'source-server', app, port: config.sourcePort, lifecycle }], close: () => engine.close() };
  },
});
