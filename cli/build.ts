/**
 * Bundles the CLI into one file, cli/dist/eventrelay.js (the `bin` of
 * cli/package.json and of the root package.json), with its dependencies
 * inside (commander, ws, the SDK), so that `npm install -g` of the packed
 * CLI works anywhere without installing anything else.
 * Run by `npm run build` and by `npm pack` (prepack): `tsx cli/build.ts`.
 */
import { build } from 'esbuild';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = dirname(fileURLToPath(import.meta.url));
export const CLI_PATH = join(cli, 'dist', 'eventrelay.js');
/** The packages bundled into the CLI; their MIT licenses ask for their notices to travel with the copy. */
const BUNDLED_PACKAGES = ['commander', 'ws'];

/**
 * commander and ws are CommonJS and call require() for Node built-ins; an
 * ESM bundle has no `require`, so the banner makes one.
 */
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __eventrelayCreateRequire } from 'node:module';",
  'const require = __eventrelayCreateRequire(import.meta.url);',
].join('\n');

export async function buildCli(outfile = CLI_PATH): Promise<{ bytes: number }> {
  await build({
    entryPoints: [join(cli, 'main.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    // ws's optional native speed-ups: required inside try/catch, absent is fine.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: BANNER },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  writeLicenses(join(dirname(outfile), 'THIRD-PARTY-LICENSES.txt'));
  return { bytes: statSync(outfile).size };
}

function writeLicenses(path: string): void {
  const require = createRequire(import.meta.url);
  const sections = BUNDLED_PACKAGES.map((name) => {
    // Not `${name}/package.json`: commander's exports do not list it.
    const main = require.resolve(name);
    const dir = main.slice(0, main.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}`.length);
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    return `${name}@${version}\n\n${readFileSync(join(dir, 'LICENSE'), 'utf8').trim()}\n`;
  });
  writeFileSync(path, `cli/dist/eventrelay.js bundles these packages:\n\n${sections.join('\n---\n\n')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { bytes } = await buildCli();
  console.log(`cli/dist/eventrelay.js: ${bytes} bytes`);
}
