import type { FastifyInstance, FastifyReply } from 'fastify';
import { RelayError } from '../../protocol/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { sendError } from '../../runtime/http/errors.js';
import type { Asset, ConsoleAssets } from './console-assets.js';

/** The configuration the console's routes read. */
export type ConsoleConfigKey = 'consoleEnabled' | 'consoleSourceUrl' | 'sourcePort' | 'authDisabled';
export type ConsoleConfig = Pick<Config, ConsoleConfigKey>;

/** The page loads only its own scripts, styles and icon; it connects to any relay the user types in. */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Short enough that a deploy reaches browsers within minutes, long enough to spare a reload storm. */
const ASSET_MAX_AGE_SECONDS = 300;
const CACHED = `public, max-age=${ASSET_MAX_AGE_SECONDS}`;

/**
 * What the page is told about this deployment (`/console/config.json`):
 * where the source-server is for a browser, and whether subscriber auth is
 * off (the page then says a token is not needed). Nothing secret.
 */
export interface ConsolePageConfig {
  /** CONSOLE_SOURCE_URL, or null: the page then uses its own host at `sourcePort`. */
  sourceUrl: string | null;
  sourcePort: number;
  authDisabled: boolean;
}

export function consolePageConfig(config: ConsoleConfig): ConsolePageConfig {
  return { sourceUrl: config.consoleSourceUrl ?? null, sourcePort: config.sourcePort, authDisabled: config.authDisabled };
}

/**
 * The live console (`/`, `/console/*`, `/favicon.ico`) and the SDK's browser
 * bundle (`/sdk/eventrelay.js`): a handful of small static files handed in
 * by main.ts (console-assets.ts) and served from memory, so no static-file
 * plugin is needed and the app never reads the filesystem. CONSOLE_ENABLED=false
 * leaves the console's routes out (404); the SDK bundle stays, since pages
 * on other origins load it.
 */
export function registerConsole(app: FastifyInstance, assets: ConsoleAssets, config: ConsoleConfig): void {
  if (!assets.sdk) app.log.warn('SDK bundle not built (npm run build); /sdk/eventrelay.js and the console will answer 404');

  const send = (reply: FastifyReply, asset: Asset | undefined, what: string, cacheControl = CACHED) => {
    if (!asset) return sendError(reply, new RelayError('not_found', `${what} is not available on this server (run npm run build).`));
    return reply
      .header('content-type', asset.type)
      .header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  };

  app.get('/sdk/eventrelay.js', { logLevel: 'warn' }, async (_request, reply) => {
    // Pages on other origins load the SDK straight from the relay.
    reply.header('access-control-allow-origin', '*');
    return send(reply, assets.sdk, 'The SDK bundle');
  });
  app.get('/sdk/eventrelay.js.map', { logLevel: 'warn' }, async (_request, reply) => send(reply, assets.sdkMap, 'The SDK source map'));

  if (!config.consoleEnabled) return;
  const pageConfig = JSON.stringify(consolePageConfig(config));

  app.get('/', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer');
    return send(reply, assets.page, 'The console', 'no-cache');
  });
  // Before /console/:file: a static route wins over the parameter in fastify's router anyway.
  app.get('/console/config.json', { logLevel: 'warn' }, async (_request, reply) =>
    reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(pageConfig),
  );
  app.get<{ Params: { file: string } }>('/console/:file', { logLevel: 'warn' }, async (request, reply) =>
    // Only the listed names: a path parameter never reaches the filesystem.
    send(reply, assets.files.get(request.params.file), `/console/${request.params.file}`),
  );
  // Browsers ask for it on every page of the origin, whatever the page links.
  app.get('/favicon.ico', { logLevel: 'warn' }, async (_request, reply) => send(reply, assets.files.get('favicon.svg'), 'The icon'));
}
