/**
 * `eventrelay`, the command-line entry point (package.json `bin`, built to
 * cli/dist/eventrelay.js by cli/build.ts). The only CLI file that touches
 * the process: environment, stdio, signals, exit code.
 */
import { readFile } from 'node:fs/promises';
import { runCli } from './program.js';

const abort = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort());

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  readFile: (path) => readFile(path, 'utf8'),
  fetch: globalThis.fetch,
  signal: abort.signal,
});
process.exitCode = code;
