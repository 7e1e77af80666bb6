import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RelayError } from '../common/errors.js';
import { sendError } from '../common/http.js';

/**
 * The live console (`/`, `/console/*`) and the SDK's browser bundle
 * (`/sdk/eventrelay.js`): a handful of small static files, read once at
 * registration and served from memory, so no static-file plugin is needed.
 */
export interface ConsoleRoutesOptions {
  /** The console's static files. Default: services/client-server/console of this checkout. */
  consoleDir?: string;
  /** The SDK bundle built by `npm run build`. Default: sdk/dist/eventrelay.js of this checkout. */
  sdkBundlePath?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  cacheControl: string;
}

/** The page loads only its own scripts and styles; it connects to any relay the user types in. */
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Short enough that a deploy reaches browsers within minutes, long enough to spare a reload storm. */
const ASSET_MAX_AGE_SECONDS = 300;
const CONSOLE_FILES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions = {}): Promise<void> {
  const root = packageRoot();
  const consoleDir = opts.consoleDir ?? join(root, 'services', 'client-server', 'console');
  const sdkBundlePath = opts.sdkBundlePath ?? join(root, 'sdk', 'dist', 'eventrelay.js');
  const cache = `public, max-age=${ASSET_MAX_AGE_SECONDS}`;

  const page = load(join(consoleDir, 'index.html'), 'text/html; charset=utf-8', 'no-cache');
  const files = new Map<string, Asset | undefined>();
  for (const [name, type] of Object.entries(CONSOLE_FILES)) files.set(name, load(join(consoleDir, name), type, cache));
  const sdk = load(sdkBundlePath, 'text/javascript; charset=utf-8', cache);
  const sdkMap = load(`${sdkBundlePath}.map`, 'application/json', cache);
  if (!sdk) app.log.warn({ sdkBundlePath }, 'SDK bundle not built (npm run build); /sdk/eventrelay.js and the console will answer 404');

  const send = (reply: FastifyReply, asset: Asset | undefined, what: string) => {
    if (!asset) return sendError(reply, new RelayError('not_found', `${what} is not available on this server (run npm run build).`));
    return reply
      .header('content-type', asset.type)
      .header('cache-control', asset.cacheControl)
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  };

  app.get('/', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer');
    return send(reply, page, 'The console');
  });
  app.get<{ Params: { file: string } }>('/console/:file', { logLevel: 'warn' }, async (request, reply) =>
    // Only the listed names: a path parameter never reaches the filesystem.
    send(reply, files.get(request.params.file), `/console/${request.params.file}`),
  );
  app.get('/sdk/eventrelay.js', { logLevel: 'warn' }, async (_request, reply) => {
    // Pages on other origins load the SDK straight from the relay.
    reply.header('access-control-allow-origin', '*');
    return send(reply, sdk, 'The SDK bundle');
  });
  app.get('/sdk/eventrelay.js.map', { logLevel: 'warn' }, async (_request, reply) => send(reply, sdkMap, 'The SDK source map'));
}

function load(path: string, type: string, cacheControl: string): Asset | undefined {
  return existsSync(path) ? { body: readFileSync(path), type, cacheControl } : undefined;
}

/** The checkout's root, found from this file whether it runs from services/ (tests) or dist/services/ (built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}
