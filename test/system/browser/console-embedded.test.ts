import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freePort } from '../../../tools/ports.js';
import { launchChromium } from '../../support/chromium.js';

/**
 * What a newcomer runs (issue #13): `npm start` (the embedded mode, auth
 * off) with non-default ports, the console opened at
 * http://localhost:<CLIENT_PORT>/, a test event published from its form.
 * The console used to aim at <host>:8080 whatever SOURCE_PORT said. Real
 * process: `node dist/services/embedded/main.js` (run `npm run build` first).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let browser: Browser;
let child: ChildProcess;
let sourcePort: number;
let clientPort: number;
beforeAll(async () => {
  browser = await launchChromium();
  [sourcePort, clientPort] = [await freePort(), await freePort()];
  child = spawn(process.execPath, ['dist/services/embedded/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', SOURCE_PORT: String(sourcePort), CLIENT_PORT: String(clientPort), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the embedded mode exited with ${child.exitCode}`);
    if (await fetch(`http://127.0.0.1:${clientPort}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('the embedded mode was not ready within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

test('npm start with SOURCE_PORT and CLIENT_PORT set: the console publishes to the right port and shows the event', async () => {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${clientPort}/`);
  await page.locator('body[data-ready]').waitFor();
  expect(await page.inputValue('#source-url')).toBe(`http://localhost:${sourcePort}`);
  await page.fill('#channel', 'demo');
  await page.click('#subscribe');
  await page.locator('#channels li[data-channel="demo"]:not(.pending)').waitFor();
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/^published demo \d+-\d+ as server$/);
  const id = (await page.textContent('#publish-result'))!.split(' ')[2]!;
  await page.locator(`#events li[data-id="${id}"]`).waitFor();
  // The operator view works too: auth is off, so no key is needed.
  await page.click('#tab-operator');
  await expect.poll(() => page.locator('#channels-table tr[data-channel="demo"] .subscribers').textContent()).toBe('1');
  await page.close();
});
