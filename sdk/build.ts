/**
 * Builds the @eventrelay/client package into sdk/dist (what tsc for the
 * services does not): the browser bundle (also served by the client-server
 * at /sdk/eventrelay.js), the Node entry, and the type declarations.
 * Run by `npm run build` and by `npm pack` (prepack): `tsx sdk/build.ts`.
 */
import { execFile } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const sdk = dirname(fileURLToPath(import.meta.url));

/** Where the browser bundle is written; console-routes.ts serves it from here. */
export const SDK_BUNDLE_PATH = join(sdk, 'dist', 'eventrelay.js');
export const SDK_NODE_PATH = join(sdk, 'dist', 'node.js');

/** The browser bundle (package.json `browser` / `import` / `default`): minified ESM, no `ws`, no Node built-ins. */
export async function buildSdkBundle(outfile = SDK_BUNDLE_PATH): Promise<{ bytes: number; gzipBytes: number }> {
  await build({
    entryPoints: [join(sdk, 'src', 'index.ts')],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // Evergreen browsers; no down-levelling of classes or async.
    target: ['es2020'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const code = readFileSync(outfile);
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

/** The Node entry (package.json `node`): readable ESM; `ws` stays an import, resolved from the user's node_modules. */
export async function buildSdkNode(outfile = SDK_NODE_PATH): Promise<void> {
  await build({
    entryPoints: [join(sdk, 'src', 'node.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    external: ['ws'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/** dist/types/*.d.ts, by tsc with sdk/tsconfig.json. */
export async function buildSdkTypes(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(sdk, 'tsconfig.json')]);
}

export async function buildSdk(): Promise<{ bytes: number; gzipBytes: number }> {
  // A declaration of a source file that is gone must not be packed. Only types/: the bundle may be
  // being served or read by a test running beside this build.
  rmSync(join(sdk, 'dist', 'types'), { recursive: true, force: true });
  const [sizes] = await Promise.all([buildSdkBundle(), buildSdkNode(), buildSdkTypes()]);
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { bytes, gzipBytes } = await buildSdk();
  console.log(`sdk/dist: eventrelay.js ${bytes} bytes minified, ${gzipBytes} bytes gzipped; node.js; types/`);
}
