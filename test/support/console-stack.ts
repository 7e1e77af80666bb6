import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { fileURLToPath } from 'node:url';
import { buildClientApp } from '../../services/client-server/app.js';
import { signSubscriberToken, type SignOptions } from '../../services/client-server/auth/jwt.js';
import { loadConsoleAssets } from '../../services/client-server/console/console-assets.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { freePort } from '../../tools/ports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CONSOLE_PUBLISHER_KEY = 'console-publisher-key-0123456789';
export const CONSOLE_JWT_SECRET = 'console-jwt-secret-console-jwt-secret-0123';

export interface ConsoleStackOptions {
  /** Publisher keys and a subscriber secret instead of AUTH_DISABLED (the production shape). Default false. */
  auth?: boolean;
  /**
   * More environment for both apps, given the two addresses (e.g.
   * CONSOLE_SOURCE_URL, SOURCE_PORT). The ports are picked before the
   * configuration is loaded, so a variable may name them.
   */
  env?: (urls: { sourceUrl: string; clientUrl: string; sourcePort: number }) => Record<string, string>;
}

export interface ConsoleStack {
  sourceUrl: string;
  clientUrl: string;
  /** With `auth`: a key the source-server takes; empty otherwise. */
  publisherKey: string;
  /** With `auth`: an HS256 subscriber token the client-server takes. */
  token(options: SignOptions): string;
  close(): Promise<void>;
}

/**
 * Both apps in this process on one MemoryEngine, auth off like `npm start`
 * (or on, with `auth`), with publish CORS opened to the console's origin
 * (PUBLISH_ALLOWED_ORIGINS), each on a free port: never the default 8080/8081.
 */
export async function startConsoleStack(options: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const [sourcePort, clientPort] = [await freePort(), await freePort()];
  const sourceUrl = `http://127.0.0.1:${sourcePort}`;
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const auth = options.auth ? { PUBLISHER_KEYS: CONSOLE_PUBLISHER_KEY, SUBSCRIBER_JWT_SECRET: CONSOLE_JWT_SECRET } : { AUTH_DISABLED: 'true' };
  const config = loadConfig({ ...auth, HOST: '127.0.0.1', PUBLISH_ALLOWED_ORIGINS: clientUrl, ...options.env?.({ sourceUrl, clientUrl, sourcePort }) });
  const logger = pino({ level: 'silent' });
  const engine = createMemoryEngine({ config, logger });
  const source: FastifyInstance = buildSourceApp({ config, logger, engine });
  const client = await buildClientApp({ config, logger, engine, consoleAssets: loadConsoleAssets(ROOT) });
  await source.listen({ host: '127.0.0.1', port: sourcePort });
  await client.listen({ host: '127.0.0.1', port: clientPort });
  return {
    sourceUrl,
    clientUrl,
    publisherKey: options.auth ? CONSOLE_PUBLISHER_KEY : '',
    token: (claims) => signSubscriberToken(CONSOLE_JWT_SECRET, claims),
    async close() {
      await client.clientRelay.drain(0);
      await Promise.all([client.close(), source.close()]);
      await engine.close();
    },
  };
}
