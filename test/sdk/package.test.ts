import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { npm, npmPack, ROOT, staticServer } from './npm.js';
import { signSubscriberToken, startLocalStack, type Stack } from './stack.js';

// The artifact a user installs: `npm pack` of sdk/, installed into a scratch project outside the repo,
// used from Node 20 (with `ws`) and from Chromium, against a real client-server (node dist/...: run `npm run build` first).
let scratch: string;
let stack: Stack;
let browser: Browser;
let files: { url: string; server: Server };
let token: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'eventrelay-sdk-'));
  const tarball = await npmPack('sdk', scratch);
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { '@eventrelay/client': `file:${tarball}`, ws: `file:${join(ROOT, 'node_modules', 'ws')}` } }),
  );
  // Both dependencies are local files: nothing is fetched from a registry.
  await npm(['install', '--offline', '--no-package-lock'], scratch);
  [stack, browser] = await Promise.all([startLocalStack({ clients: 1 }), launchChromium()]);
  files = await staticServer(scratch);
  token = signSubscriberToken(stack.jwtSecret, { channels: ['pkg-*'], ttlSeconds: 600 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  files?.server.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function publish(channel: string, data: unknown): Promise<string> {
  const res = await fetch(`${stack.sourceUrl}/v1/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.publisherKey}` },
    body: JSON.stringify(data),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

test('the packed package holds the built entries and types, and no sources', () => {
  const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/@eventrelay/client/package.json'), 'utf8')) as { exports: Record<string, Record<string, unknown>> };
  expect(Object.keys(manifest.exports['.']!)).toEqual(['node', 'browser', 'types', 'import', 'default']);
  for (const file of ['dist/eventrelay.js', 'dist/node.js', 'dist/types/index.d.ts', 'dist/types/node.d.ts']) {
    expect(() => readFileSync(join(scratch, 'node_modules/@eventrelay/client', file))).not.toThrow();
  }
  expect(() => readFileSync(join(scratch, 'node_modules/@eventrelay/client/src/client.ts'))).toThrow();
});

test('from Node 20 (with ws installed) the package resolves to its Node entry and receives an event', async () => {
  writeFileSync(
    join(scratch, 'subscribe.mjs'),
    `import { connect } from '@eventrelay/client';
console.log('entry ' + import.meta.resolve('@eventrelay/client'));
const [url, token, channel] = process.argv.slice(2);
const client = connect(url, { token });
client.on('state', (s) => { if (s.error) { console.error(s.error.code + ': ' + s.error.message); process.exit(1); } });
client.subscribe(channel, (event) => { console.log('event ' + JSON.stringify(event)); client.close(); }, { onSubscribed: () => console.log('subscribed') });
`,
  );
  const channel = `pkg-node-${Date.now()}`;
  const child = spawn(process.execPath, ['subscribe.mjs', stack.clientUrls[0]!, token, channel], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('subscribed\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`the script exited before subscribing: ${stdout}${stderr}`)));
  });
  const id = await publish(channel, { from: 'node' });
  expect(await exited, stderr).toBe(0);
  expect(stdout).toMatch(/^entry file:.*\/node_modules\/@eventrelay\/client\/dist\/node\.js$/m);
  const line = stdout.split('\n').find((l) => l.startsWith('event '));
  expect(JSON.parse(line!.slice('event '.length))).toMatchObject({ channel, id, data: { from: 'node' } });
});

test('the types resolve for a NodeNext TypeScript project and describe the API', async () => {
  writeFileSync(
    join(scratch, 'check.ts'),
    `import { connect, connectSse, EventRelayError, type PublishedInfo, type RelayEvent } from '@eventrelay/client';
const client = connect('http://localhost:8081', { token: 't' });
const published: Promise<PublishedInfo> = client.publish('room:1', { n: 1 }, { ref: 'r', idempotencyKey: 'k' });
client.subscribe<{ n: number }>('room:1', (e: RelayEvent<{ n: number }>) => e.data.n.toFixed(), { presence: true, onPresence: (c) => c.presence.members });
const stream = connectSse('http://localhost:8081', { channels: ['a', 'b'] });
stream.on('event', (e) => e.publisher?.length);
export const checks = [published, stream.cursor, EventRelayError];
`,
  );
  // No @types/node: the package's types must stand on their own. skipLibCheck off: they are checked too.
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], skipLibCheck: false }, files: ['check.ts'] }),
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: scratch });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => resolve({ code, out }));
  });
  expect(result.code, result.out).toBe(0);
});

test('in Chromium the installed browser build (exports "browser") receives an event over WebSocket and over SSE', async () => {
  const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/@eventrelay/client/package.json'), 'utf8')) as { exports: { '.': { browser: { default: string } } } };
  const browserEntry = `/node_modules/@eventrelay/client/${manifest.exports['.'].browser.default.replace(/^\.\//, '')}`;
  writeFileSync(
    join(scratch, 'index.html'),
    `<!doctype html><html><head>
<script type="importmap">${JSON.stringify({ imports: { '@eventrelay/client': browserEntry } })}</script>
<script type="module">
import { connect, connectSse } from '@eventrelay/client';
const params = new URLSearchParams(location.search);
const [url, token, channel] = ['url', 'token', 'channel'].map((k) => params.get(k));
window.result = { subscribed: 0, ws: null, sse: null, errors: [] };
const client = connect(url, { token });
client.on('error', (e) => window.result.errors.push(e.code + ': ' + e.message));
client.subscribe(channel, (e) => (window.result.ws = e), { onSubscribed: () => window.result.subscribed++ });
const stream = connectSse(url, { channels: [channel], token });
stream.on('error', (e) => window.result.errors.push(e.code + ': ' + e.message));
stream.on('subscribed', () => window.result.subscribed++);
stream.on('event', (e) => (window.result.sse = e));
</script></head><body>package test</body></html>`,
  );
  const channel = `pkg-browser-${Date.now()}`;
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  try {
    await page.goto(`${files.url}/index.html?${new URLSearchParams({ url: stack.clientUrls[0]!, token, channel })}`);
    await page.waitForFunction(() => (window as unknown as { result?: { subscribed: number } }).result?.subscribed === 2, undefined, { timeout: 20_000 });
    const id = await publish(channel, { from: 'node', to: 'browser' });
    await page.waitForFunction(() => {
      const r = (window as unknown as { result: { ws: unknown; sse: unknown } }).result;
      return r.ws !== null && r.sse !== null;
    }, undefined, { timeout: 20_000 });
    const result = await page.evaluate(() => (window as unknown as { result: { ws: { id: string; data: unknown }; sse: { id: string; data: unknown }; errors: string[] } }).result);
    expect(result.ws).toMatchObject({ channel, id, data: { from: 'node', to: 'browser' } });
    expect(result.sse).toMatchObject({ channel, id, data: { from: 'node', to: 'browser' } });
    expect(result.errors).toEqual([]);
    expect(pageErrors).toEqual([]);
  } finally {
    await page.close();
  }
});
