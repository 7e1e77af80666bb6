/**
 * Builds what tsc does not: the browser bundle of the SDK (served by the
 * client-server at /sdk/eventrelay.js) and the CLI (package.json `bin`).
 * Run by `npm run build` after tsc: `tsx sdk/build.ts`.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the browser bundle is written; console-routes.ts serves it from here. */
export const SDK_BUNDLE_PATH = join(root, 'sdk', 'dist', 'eventrelay.js');
export const CLI_PATH = join(root, 'dist', 'cli', 'eventrelay.js');

export async function buildSdkBundle(outfile = SDK_BUNDLE_PATH): Promise<{ bytes: number; gzipBytes: number }> {
  await build({
    entryPoints: [join(root, 'sdk', 'src', 'index.ts')],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // Evergreen browsers and Node 20; no down-levelling of classes or async.
    target: ['es2020'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const code = readFileSync(outfile);
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

export async function buildCli(outfile = CLI_PATH): Promise<void> {
  await build({
    entryPoints: [join(root, 'cli', 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    // commander and ws are runtime dependencies, resolved from node_modules.
    packages: 'external',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { bytes, gzipBytes } = await buildSdkBundle();
  await buildCli();
  console.log(`sdk/dist/eventrelay.js: ${bytes} bytes minified, ${gzipBytes} bytes gzipped; dist/cli/eventrelay.js built`);
}
