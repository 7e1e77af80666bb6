import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { npm, npmPack, ROOT } from '../sdk/npm.js';
import { runCli, startCli } from './run-cli.js';
import { startLocalStack, type Stack } from './stack.js';

// The artifact a user installs globally: `npm pack` of cli/, `npm install -g --prefix <tmp>`, run from a
// folder outside the repo against real servers (node dist/...: run `npm run build` first).
let prefix: string;
let cwd: string;
let bin: string;
let stack: Stack;
let env: Record<string, string>;

beforeAll(async () => {
  prefix = mkdtempSync(join(tmpdir(), 'eventrelay-cli-prefix-'));
  cwd = mkdtempSync(join(tmpdir(), 'eventrelay-cli-cwd-'));
  const tarball = await npmPack('cli', prefix);
  // The bundle has every dependency inside: nothing is fetched from a registry.
  await npm(['install', '-g', '--offline', '--prefix', prefix, tarball], cwd);
  bin = join(prefix, 'bin', 'eventrelay');
  stack = await startLocalStack({ clients: 1 });
  env = {
    EVENTRELAY_SOURCE_URL: stack.sourceUrl,
    EVENTRELAY_CLIENT_URL: stack.clientUrls[0]!,
    EVENTRELAY_PUBLISHER_KEY: stack.publisherKey,
    SUBSCRIBER_JWT_SECRET: stack.jwtSecret,
  };
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  for (const dir of [prefix, cwd]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the installed package is one bundled file with no dependencies to install', () => {
  const installed = join(prefix, 'lib', 'node_modules', '@eventrelay', 'cli');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: object; bin: Record<string, string> };
  expect(manifest.dependencies).toBeUndefined();
  expect(manifest.bin).toEqual({ eventrelay: 'dist/eventrelay.js' });
  expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'package.json']);
});

test('eventrelay --version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'cli', 'package.json'), 'utf8')) as { version: string };
  const run = await runCli(['--version'], { bin, cwd });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toBe(`${version}\n`);
});

test('eventrelay publish and tail work from a folder outside the repo', async () => {
  const channel = `cli-global-${Date.now()}`;
  const tail = startCli(['tail', channel, '--limit', '1'], { bin, cwd, env, timeoutMs: 30_000 });
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (tail.output.stderr.includes('subscribed to')) resolve();
      else if (tail.exitCode !== null) reject(new Error(`tail exited early: ${tail.output.stderr}`));
      else return;
      clearInterval(check);
    }, 20);
  });
  const published = await runCli(['publish', channel, '{"from":"global"}'], { bin, cwd, env });
  expect(published.code, published.stderr).toBe(0);
  const { id } = JSON.parse(published.stdout) as { id: string };
  const done = await tail.done;
  expect(done.code, done.stderr).toBe(0);
  expect(JSON.parse(done.stdout)).toMatchObject({ channel, id, data: { from: 'global' } });
});
