import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildSdkBundle } from '../../../sdk/build.js';
import { launchChromium } from '../../support/chromium.js';
import { startConsoleStack, type ConsoleStack } from '../../support/console-stack.js';

/**
 * The console in headless Chromium against both apps with auth off, as
 * `npm start` runs them, but on free ports (never 8080/8081) and without
 * CONSOLE_SOURCE_URL: the page must find the source-server from the
 * client-server's SOURCE_PORT. console-operator.test.ts covers auth, the
 * client publish, presence and the operator view.
 */
let stack: ConsoleStack;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  await buildSdkBundle();
  stack = await startConsoleStack({ env: ({ sourcePort }) => ({ SOURCE_PORT: String(sourcePort) }) });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function openConsole(): Promise<Page & { errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${stack.clientUrl}/`);
  await page.locator('body[data-ready]').waitFor();
  return Object.assign(page, { errors });
}

async function subscribe(page: Page, channel: string): Promise<void> {
  await page.fill('#channel', channel);
  await page.click('#subscribe');
  await page.locator(`#channels li[data-channel="${channel}"]:not(.pending)`).waitFor();
}

async function publishFromNode(channel: string, data: unknown): Promise<string> {
  const res = await fetch(`${stack.sourceUrl}/v1/channels/${channel}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

test('the source-server address is the page host at the configured SOURCE_PORT, not 8080, and publishing as server reaches it', async () => {
  const page = await openConsole();
  expect(await page.inputValue('#source-url')).toBe(stack.sourceUrl);
  expect(new URL(stack.sourceUrl).port).not.toBe('8080');
  await subscribe(page, 'demo');
  await page.fill('#publish-channel', 'demo');
  await page.fill('#publish-data', '{"hello":"world","from":"the console"}');
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/^published demo \d+-\d+ as server$/);
  const id = (await page.textContent('#publish-result'))!.split(' ')[2]!;
  const row = page.locator(`#events li[data-id="${id}"]`);
  await row.waitFor();
  expect(await row.getAttribute('data-channel')).toBe('demo');
  expect(page.errors).toEqual([]);
  await page.close();
});

test('an edited source-server address is remembered across visits, and can be put back to the configured one', async () => {
  const page = await openConsole();
  await page.fill('#source-url', 'http://127.0.0.1:1');
  await page.dispatchEvent('#source-url', 'change');
  await page.reload();
  await page.locator('body[data-ready]').waitFor();
  expect(await page.inputValue('#source-url')).toBe('http://127.0.0.1:1');
  await page.click('#source-reset');
  expect(await page.inputValue('#source-url')).toBe(stack.sourceUrl);
  // A source-server that is not there is named, with the usual cause.
  await page.fill('#source-url', 'http://127.0.0.1:1');
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/^unreachable: cannot reach the source-server at http:\/\/127\.0\.0\.1:1/);
  await page.close();
});

test('events are one compact row each, newest first; a click shows the data in full', async () => {
  const page = await openConsole();
  await subscribe(page, 'rows');
  const ids = [];
  for (let i = 1; i <= 3; i++) ids.push(await publishFromNode('rows', { order: i, items: ['a', 'b'] }));
  await expect.poll(() => page.locator('#events li').count()).toBe(3);
  expect(await page.locator('#events li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))).toEqual(ids.reverse());
  // The old console drew a ~90 px card per event.
  for (const box of await page.locator('#events li').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height))) expect(box).toBeLessThan(30);
  const newest = page.locator('#events li').first();
  expect(await newest.locator('.data').textContent()).toBe('{"order":3,"items":["a","b"]}');
  await newest.click();
  expect(JSON.parse((await newest.locator('pre').textContent())!)).toEqual({ order: 3, items: ['a', 'b'] });
  await page.close();
});

test('the filter shows only matching events, also those that arrive later; pause holds new events until resumed', async () => {
  const page = await openConsole();
  await subscribe(page, 'news');
  await subscribe(page, 'orders:eu');
  for (let i = 0; i < 4; i++) await publishFromNode(i % 2 ? 'orders:eu' : 'news', { i });
  await expect.poll(() => page.locator('#events li').count()).toBe(4);

  await page.fill('#filter', 'orders');
  expect(await page.locator('#events li:not([hidden])').count()).toBe(2);
  expect(await page.textContent('#filter-count')).toBe('2 hidden by the filter');
  await publishFromNode('news', { late: true });
  await publishFromNode('orders:eu', { late: true });
  await expect.poll(() => page.locator('#events li').count()).toBe(6);
  expect(await page.locator('#events li:not([hidden])').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.channel))).toEqual(['orders:eu', 'orders:eu', 'orders:eu']);
  await page.fill('#filter', '');
  expect(await page.locator('#events li:not([hidden])').count()).toBe(6);

  await page.click('#pause');
  const held = [await publishFromNode('news', { held: 1 }), await publishFromNode('news', { held: 2 })];
  await expect.poll(() => page.textContent('#pause')).toBe('Resume (2 new)');
  expect(await page.locator('#events li').count()).toBe(6);
  expect(await page.textContent('#event-count')).toBe('8');
  await page.click('#pause');
  expect(await page.locator('#events li').count()).toBe(8);
  expect(await page.locator('#events li').first().getAttribute('data-id')).toBe(held[1]);
  expect(await page.textContent('#pause')).toBe('Pause');
  await page.close();
});

test('Disconnect closes the page connection; Connect resumes each channel after its last event, nothing lost or repeated', async () => {
  const page = await openConsole();
  await subscribe(page, 'resume');
  const first = await publishFromNode('resume', { n: 1 });
  await page.locator(`#events li[data-id="${first}"]`).waitFor();
  await page.click('#disconnect');
  await page.locator('#state[data-state="closed"]').waitFor();
  expect(await page.textContent('#state')).toBe('disconnected');
  const missed = await publishFromNode('resume', { n: 2 });
  await page.click('#connect');
  await page.locator(`#events li[data-id="${missed}"]`).waitFor();
  expect(await page.locator('#events li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))).toEqual([missed, first]);
  expect(await page.textContent('#state')).toBe('connected');
  await page.close();
});

test("a bad channel name is refused with PROTOCOL.md's invalid_channel in the subscribe and publish forms, and nothing is subscribed", async () => {
  const page = await openConsole();
  await page.fill('#channel', 'not a channel');
  await page.click('#subscribe');
  expect(await page.textContent('#channel-error')).toMatch(/^invalid_channel: "not a channel" is not a channel name: 1-128 of/);
  expect(await page.locator('#channels li').count()).toBe(0);
  await page.fill('#publish-channel', 'x'.repeat(129));
  await page.click('#publish');
  expect(await page.textContent('#publish-result')).toMatch(/^invalid_channel: /);
  await page.close();
});

test('the page loads without a failed request (the favicon included) and with a content security policy', async () => {
  const page = await browser.newPage();
  const failed: string[] = [];
  const loaded: string[] = [];
  page.on('response', (r) => (r.status() >= 400 ? failed.push(`${r.status()} ${r.url()}`) : loaded.push(new URL(r.url()).pathname)));
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
  const response = await page.goto(`${stack.clientUrl}/`);
  await page.locator('body[data-ready]').waitFor();
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(failed).toEqual([]);
  expect(loaded).toEqual(expect.arrayContaining(['/console/config.json', '/sdk/eventrelay.js', '/console/favicon.svg']));
  expect((await fetch(`${stack.clientUrl}/favicon.ico`)).status).toBe(200);
  const sdk = await fetch(`${stack.clientUrl}/sdk/eventrelay.js`);
  expect(sdk.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(await sdk.text()).toMatch(/export\{/);
  await page.close();
});
