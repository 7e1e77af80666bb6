import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildClientApp } from '../../services/client-server/app.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { freePort } from '../../tools/ports.js';
import { fileURLToPath } from 'node:url';
import { loadConsoleAssets } from '../../services/client-server/console/console-assets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ConsoleStack {
  sourceUrl: string;
  clientUrl: string;
  close(): Promise<void>;
}

/**
 * Both apps in this process on one MemoryEngine, auth off like `npm start`,
 * with publish CORS opened to the console's origin (PUBLISH_ALLOWED_ORIGINS).
 */
export async function startConsoleStack(): Promise<ConsoleStack> {
  const [sourcePort, clientPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const config = loadConfig({ AUTH_DISABLED: 'true', HOST: '127.0.0.1', PUBLISH_ALLOWED_ORIGINS: clientUrl });
  const logger = pino({ level: 'silent' });
  const engine = createMemoryEngine({ config, logger });
  const source: FastifyInstance = buildSourceApp({ config, logger, engine });
  const client = await buildClientApp({ config, logger, engine, consoleAssets: loadConsoleAssets(ROOT) });
  await source.listen({ host: '127.0.0.1', port: sourcePort });
  await client.listen({ host: '127.0.0.1', port: clientPort });
  return {
    sourceUrl: `http://127.0.0.1:${sourcePort}`,
    clientUrl,
    async close() {
      await client.clientRelay.drain(0);
      await Promise.all([client.close(), source.close()]);
      await engine.close();
    },
  };
}
