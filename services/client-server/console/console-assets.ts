import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One static file served from memory. */
export interface Asset {
  body: Buffer;
  type: string;
}

/** The console's page, its scripts and styles, and the SDK's browser bundle, as read at start. */
export interface ConsoleAssets {
  page?: Asset;
  /** The console's scripts, styles and icon, keyed by file name. */
  files: Map<string, Asset>;
  sdk?: Asset;
  sdkMap?: Asset;
}

const JS = 'text/javascript; charset=utf-8';
/** Every file of the console besides the page, by name: nothing else under /console/ is served. */
const CONSOLE_FILES: Record<string, string> = {
  'console.js': JS,
  'dom.js': JS,
  'server-api.js': JS,
  'events-view.js': JS,
  'channels-view.js': JS,
  'operator-view.js': JS,
  'console.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Reads the console and the SDK bundle from a checkout or image rooted at
 * `root` (services/client-server/console, sdk/dist). Called by main.ts only:
 * the app builder never touches the filesystem. A missing file is absent
 * (answered 404 with a hint), not an error: the SDK bundle exists only after a build.
 */
export function loadConsoleAssets(root: string): ConsoleAssets {
  const consoleDir = join(root, 'services', 'client-server', 'console');
  const sdkBundle = join(root, 'sdk', 'dist', 'eventrelay.js');
  const files = new Map<string, Asset>();
  for (const [name, type] of Object.entries(CONSOLE_FILES)) {
    const asset = load(join(consoleDir, name), type);
    if (asset) files.set(name, asset);
  }
  return {
    page: load(join(consoleDir, 'index.html'), 'text/html; charset=utf-8'),
    files,
    sdk: load(sdkBundle, 'text/javascript; charset=utf-8'),
    sdkMap: load(`${sdkBundle}.map`, 'application/json'),
  };
}

function load(path: string, type: string): Asset | undefined {
  return existsSync(path) ? { body: readFileSync(path), type } : undefined;
}
