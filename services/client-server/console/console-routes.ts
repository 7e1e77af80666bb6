import type { FastifyInstance, FastifyReply } from 'fastify';
import { RelayError } from '../../protocol/errors.js';
import { sendError } from '../../runtime/http/errors.js';
import type { Asset, ConsoleAssets } from './console-assets.js';

/** The page loads only its own scripts and styles; it connects to any relay the user types in. */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Short enough that a deploy reaches browsers within minutes, long enough to spare a reload storm. */
const ASSET_MAX_AGE_SECONDS = 300;
const CACHED = `public, max-age=${ASSET_MAX_AGE_SECONDS}`;

/**
 * The live console (`/`, `/console/*`) and the SDK's browser bundle
 * (`/sdk/eventrelay.js`): a handful of small static files handed in by
 * main.ts (console-assets.ts) and served from memory, so no static-file
 * plugin is needed and the app never reads the filesystem.
 */
export function registerConsole(app: FastifyInstance, assets: ConsoleAssets): void {
  if (!assets.sdk) app.log.warn('SDK bundle not built (npm run build); /sdk/eventrelay.js and the console will answer 404');

  const send = (reply: FastifyReply, asset: Asset | undefined, what: string, cacheControl = CACHED) => {
    if (!asset) return sendError(reply, new RelayError('not_found', `${what} is not available on this server (run npm run build).`));
    return reply
      .header('content-type', asset.type)
      .header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  };

  app.get('/', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer');
    return send(reply, assets.page, 'The console', 'no-cache');
  });
  app.get<{ Params: { file: string } }>('/console/:file', { logLevel: 'warn' }, async (request, reply) =>
    // Only the listed names: a path parameter never reaches the filesystem.
    send(reply, assets.files.get(request.params.file), `/console/${request.params.file}`),
  );
  app.get('/sdk/eventrelay.js', { logLevel: 'warn' }, async (_request, reply) => {
    // Pages on other origins load the SDK straight from the relay.
    reply.header('access-control-allow-origin', '*');
    return send(reply, assets.sdk, 'The SDK bundle');
  });
  app.get('/sdk/eventrelay.js.map', { logLevel: 'warn' }, async (_request, reply) => send(reply, assets.sdkMap, 'The SDK source map'));
}
