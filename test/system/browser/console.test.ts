import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildSdkBundle } from '../../../sdk/build.js';
import { launchChromium } from '../../support/chromium.js';
import { startConsoleStack, type ConsoleStack } from '../../support/console-stack.js';

const SCREENSHOT_PATH = 'test-artifacts/console.png';
/** Events published before the form's own; bounded so the test stays a few seconds long. */
const TRAFFIC_EVENTS = 16;

let stack: ConsoleStack;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  await buildSdkBundle();
  stack = await startConsoleStack();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function publishFromNode(channel: string, data: unknown): Promise<string> {
  const res = await fetch(`${stack.sourceUrl}/v1/channels/${channel}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

test('the console subscribes, publishes through its form, and renders the event newest first', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${stack.clientUrl}/`);

  for (const channel of ['demo', 'orders:eu']) {
    await page.fill('#channel', channel);
    await page.click('#subscribe');
  }
  await page.locator('#state[data-state="open"]').waitFor();
  await page.locator('#channels li[data-channel="demo"]:not(.pending)').waitFor();
  await page.locator('#channels li[data-channel="orders:eu"]:not(.pending)').waitFor();

  // Some traffic first, spread over a few seconds so that the sparklines (one point per second) draw a shape.
  for (let i = 1; i <= TRAFFIC_EVENTS; i++) {
    await publishFromNode(i % 3 ? 'orders:eu' : 'demo', { order: 1000 + i, total: i * 12.5, currency: 'EUR' });
    await new Promise((r) => setTimeout(r, 150));
  }

  await page.fill('#source-url', stack.sourceUrl);
  await page.fill('#publish-channel', 'demo');
  await page.fill('#publish-data', '{"hello":"world","from":"the console"}');
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/^published demo \d+-\d+$/);
  const publishedId = (await page.textContent('#publish-result'))!.split(' ').at(-1)!;

  const newest = page.locator('#events li').first();
  await newest.locator(`xpath=self::li[@data-id="${publishedId}"]`).waitFor();
  expect(await newest.getAttribute('data-channel')).toBe('demo');
  expect(JSON.parse((await newest.locator('pre').textContent())!)).toEqual({ hello: 'world', from: 'the console' });
  expect(await page.locator('#events li').count()).toBe(TRAFFIC_EVENTS + 1);
  expect(await page.textContent('#event-count')).toBe(String(TRAFFIC_EVENTS + 1));

  // The sparkline redraws once a second; wait until it has drawn the traffic.
  await expect.poll(() => page.locator('#channels li[data-channel="demo"] polyline').getAttribute('points')).toBeTruthy();
  await page.evaluate(() => window.scrollTo(0, 0));
  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: SCREENSHOT_PATH });
  expect(pageErrors).toEqual([]);
  await page.close();
});

test('a publish the source-server refuses shows its error code in the form', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.clientUrl}/`);
  await page.fill('#source-url', stack.sourceUrl);
  await page.fill('#publish-channel', 'not a channel');
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/^400 invalid_channel:/);
  await page.close();
});

test('the console page is served with a content security policy and the SDK bundle as JavaScript', async () => {
  const page = await fetch(`${stack.clientUrl}/`);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  const sdk = await fetch(`${stack.clientUrl}/sdk/eventrelay.js`);
  expect(sdk.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(await sdk.text()).toMatch(/export\{/);
});
