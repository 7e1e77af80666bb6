import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildSdkBundle } from '../../../sdk/build.js';
import { launchChromium } from '../../support/chromium.js';
import { startConsoleStack, type ConsoleStack } from '../../support/console-stack.js';
import { TestSocket } from '../../support/ws-client.js';

/**
 * The console with auth on (publisher keys, subscriber tokens) and
 * CONSOLE_SOURCE_URL set, in headless Chromium: refused tokens, publishing
 * as a client and as a server, presence, and the operator view (occupied
 * channels, presence members, history pages, disconnect) from the server API.
 */
const SCREENSHOT_PATH = 'test-artifacts/console.png';

let stack: ConsoleStack;
let browser: Browser;
const sockets: TestSocket[] = [];
beforeAll(async () => {
  browser = await launchChromium();
  await buildSdkBundle();
  stack = await startConsoleStack({ auth: true, env: ({ sourceUrl }) => ({ CONSOLE_SOURCE_URL: sourceUrl }) });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A user's token: every channel to read, `room:*` to publish to and be present in. */
function tokenFor(sub: string, info: Record<string, unknown> = {}): string {
  return stack.token({ channels: ['*'], sub, publish: ['room:*'], presence: ['room:*'], info, ttlSeconds: 600 });
}

async function openConsole(options: { token?: string; key?: boolean } = {}): Promise<Page & { errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${stack.clientUrl}/`);
  await page.locator('body[data-ready]').waitFor();
  if (options.token !== undefined) await page.fill('#token', options.token);
  if (options.key) await page.fill('#publisher-key', stack.publisherKey);
  return Object.assign(page, { errors });
}

async function subscribe(page: Page, channel: string, presence = false): Promise<void> {
  await page.fill('#channel', channel);
  await page.setChecked('#presence', presence);
  await page.click('#subscribe');
  await page.locator(`#channels li[data-channel="${channel}"]:not(.pending)`).waitFor();
}

/** Another user, outside the page: a plain WebSocket subscriber. */
async function otherUser(sub: string, channel: string, presence: boolean): Promise<TestSocket> {
  const socket = await TestSocket.open(`${stack.clientUrl.replace('http', 'ws')}/v1/ws`, { token: tokenFor(sub, { name: sub }) });
  sockets.push(socket);
  socket.send({ type: 'subscribe', channel, presence });
  await socket.next((m) => m.type === 'subscribed' && m.channel === channel);
  return socket;
}

async function publishFromNode(channel: string, data: unknown): Promise<string> {
  const res = await fetch(`${stack.sourceUrl}/v1/channels/${channel}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.publisherKey}` },
    body: JSON.stringify(data),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

/** Waits for the connection state `closed`; a timeout says which state the page showed instead. */
async function closedState(page: Page): Promise<void> {
  try {
    await page.locator('#state[data-state="closed"]').waitFor({ timeout: 10_000 });
  } catch (err) {
    throw new Error(`the connection state is "${await page.textContent('#state')}" (notice: "${await page.textContent('#notice')}"), not closed: ${String(err)}`);
  }
}

async function openOperator(page: Page, channel?: string): Promise<void> {
  await page.click('#tab-operator');
  if (channel === undefined) return;
  await page.fill('#inspect-channel', channel);
  await page.click('#inspect');
  await expect.poll(() => page.textContent('#detail-name')).toBe(channel);
}

describe('refused tokens are shown, not retried forever', () => {
  test('a bad token: the state says the token was rejected, with the server reason', async () => {
    const page = await openConsole({ token: 'not-a-jwt' });
    await page.fill('#channel', 'demo');
    await page.click('#subscribe');
    await closedState(page);
    expect(await page.textContent('#state')).toBe('token rejected (4001)');
    expect(await page.getAttribute('#state', 'data-close-code')).toBe('4001');
    expect(await page.textContent('#notice')).toMatch(/^unauthorized: The subscriber token was rejected: /);
    await page.close();
  });

  test('no token at all: the notice says one is required', async () => {
    const page = await openConsole();
    await page.click('#connect');
    await closedState(page);
    expect(await page.textContent('#notice')).toMatch(/^unauthorized: A subscriber token is required/);
    await page.close();
  });
});

describe('publishing', () => {
  test('as client over the WebSocket (token publish claim) and as server with the key, to CONSOLE_SOURCE_URL', async () => {
    const page = await openConsole({ token: tokenFor('alice'), key: true });
    expect(await page.inputValue('#source-url')).toBe(stack.sourceUrl);
    await subscribe(page, 'room:pub');
    await page.fill('#publish-channel', 'room:pub');
    await page.check('#publish-as-client');
    await page.click('#publish');
    await expect.poll(() => page.textContent('#publish-result')).toMatch(/^published room:pub \d+-\d+ as client$/);
    const clientId = (await page.textContent('#publish-result'))!.split(' ')[2]!;
    expect(await page.locator(`#events li[data-id="${clientId}"] .publisher`).textContent()).toBe('by alice');

    await page.check('#publish-as-server');
    await page.click('#publish');
    await expect.poll(() => page.textContent('#publish-result')).toMatch(/^published room:pub \d+-\d+ as server$/);
    const serverId = (await page.textContent('#publish-result'))!.split(' ')[2]!;
    await page.locator(`#events li[data-id="${serverId}"]`).waitFor();
    expect(await page.locator(`#events li[data-id="${serverId}"] .publisher`).textContent()).toBe('');
    expect(page.errors).toEqual([]);
    await page.close();
  });

  test("refusals show the server's code: a channel the token may not publish to, and a wrong publisher key", async () => {
    const page = await openConsole({ token: tokenFor('alice') });
    await page.fill('#publish-channel', 'news');
    await page.check('#publish-as-client');
    await page.click('#publish');
    await expect.poll(() => page.textContent('#publish-result')).toMatch(/^forbidden: /);
    await page.fill('#publisher-key', 'not-the-key-not-the-key');
    await page.check('#publish-as-server');
    await page.click('#publish');
    await expect.poll(() => page.textContent('#publish-result')).toMatch(/^401 unauthorized: /);
    await page.close();
  });
});

describe('presence', () => {
  test('members appear and leave live, under the channel and in the operator view', async () => {
    const page = await openConsole({ token: tokenFor('alice', { name: 'Alice' }), key: true });
    await subscribe(page, 'room:presence', true);
    const members = page.locator('#channels li[data-channel="room:presence"] .members');
    await members.locator('[data-user="alice"]').waitFor();
    await openOperator(page, 'room:presence');
    await page.locator('#presence-table tr[data-user="alice"]').waitFor();

    const bob = await otherUser('bob', 'room:presence', true);
    await members.locator('[data-user="bob"]').waitFor();
    await page.locator('#presence-table tr[data-user="bob"]').waitFor();
    expect(await page.locator('#presence-table tr[data-user="bob"] td').allTextContents()).toEqual(['bob', '{"name":"bob"}', '1', 'Disconnect']);

    bob.close();
    await members.locator('[data-user="bob"]').waitFor({ state: 'detached' });
    await page.locator('#presence-table tr[data-user="bob"]').waitFor({ state: 'detached' });
    expect(await members.locator('[data-user]').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.user))).toEqual(['alice']);
    await page.close();
  });
});

describe('the operator view', () => {
  test('lists the occupied channels with their subscriber counts', async () => {
    const page = await openConsole({ token: tokenFor('alice'), key: true });
    await subscribe(page, 'room:count');
    await otherUser('carol', 'room:count', false);
    await openOperator(page);
    await expect
      .poll(async () => {
        await page.click('#channels-refresh');
        return page.locator('#channels-table tr[data-channel="room:count"] .subscribers').textContent({ timeout: 1000 }).catch(() => null);
      })
      .toBe('2');
    await page.fill('#channels-prefix', 'nothing-here:');
    await page.click('#channels-refresh');
    await expect.poll(() => page.locator('#channels-table tr').count()).toBe(0);
    await page.close();
  });

  test('without a publisher key it says one is needed, with the server refusal', async () => {
    const page = await openConsole({ token: tokenFor('alice') });
    await openOperator(page);
    expect(await page.textContent('#operator-hint')).toMatch(/Enter the publisher key/);
    await expect.poll(() => page.textContent('#channels-result')).toMatch(/^401 unauthorized: .*\(enter the publisher key\)$/);
    await page.close();
  });

  test('pages through history oldest first with next, and shows the latest page', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push(await publishFromNode('history:pages', { n: i }));
    const page = await openConsole({ key: true });
    await openOperator(page, 'history:pages');
    const shown = () => page.locator('#history-table tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    await page.fill('#history-limit', '3');
    await page.click('#history-oldest');
    await expect.poll(shown).toEqual(ids.slice(0, 3));
    await page.click('#history-next');
    await expect.poll(shown).toEqual(ids.slice(3, 6));
    await page.click('#history-next');
    await expect.poll(shown).toEqual(ids.slice(6));
    expect(await page.isDisabled('#history-next')).toBe(true);
    await page.click('#history-latest');
    await expect.poll(shown).toEqual(ids.slice(4));
    expect(await page.locator(`#history-table tr[data-id="${ids[6]}"] .data`).textContent()).toBe('{"n":7}');
    // A limit the server refuses is shown with its code.
    await page.fill('#history-limit', '5000');
    await page.click('#history-latest');
    await expect.poll(() => page.textContent('#history-result')).toMatch(/^400 invalid_request: /);
    await page.close();
  });

  test("disconnecting the page's own user closes its connection with 4003, shown, and it does not reconnect", async () => {
    const page = await openConsole({ token: tokenFor('mallory'), key: true });
    await subscribe(page, 'room:cut');
    await openOperator(page);
    await page.fill('#disconnect-user', 'mallory');
    await page.click('#disconnect-user-submit');
    await expect.poll(() => page.textContent('#disconnect-result')).toBe('disconnected mallory: every connection of that user is closed with 4003');
    await closedState(page);
    expect(await page.textContent('#state')).toBe('disconnected by the operator (4003)');
    expect(await page.getAttribute('#state', 'data-close-code')).toBe('4003');
    expect(await page.textContent('#notice')).toMatch(/^disconnected \(close 4003\)/);
    await page.close();
  });
});

test('a screenshot of the operator view with real data (docs/console.png)', async () => {
  const page = await openConsole({ token: tokenFor('alice', { name: 'Alice', role: 'support' }), key: true });
  await subscribe(page, 'room:lobby', true);
  await subscribe(page, 'orders:eu');
  await subscribe(page, 'news');
  await otherUser('bob', 'room:lobby', true);
  await otherUser('carol', 'room:lobby', true);
  await otherUser('dave', 'orders:eu', false);
  // Traffic spread over a few seconds, so that the sparklines (a point per second) draw a shape.
  for (let i = 1; i <= 18; i++) {
    const channel = i % 3 === 0 ? 'news' : i % 3 === 1 ? 'orders:eu' : 'room:lobby';
    await publishFromNode(channel, channel === 'orders:eu' ? { order: 1000 + i, total: i * 12.5, currency: 'EUR' } : channel === 'news' ? { headline: `story ${i}` } : { text: `hello ${i}` });
    await new Promise((r) => setTimeout(r, 150));
  }
  await page.check('#publish-as-client');
  await page.fill('#publish-channel', 'room:lobby');
  await page.fill('#publish-data', '{"text":"hi from the console"}');
  await page.click('#publish');
  await expect.poll(() => page.textContent('#publish-result')).toMatch(/as client$/);
  await openOperator(page);
  await page.click('#channels-table button >> text=room:lobby');
  await page.locator('#presence-table tr[data-user="carol"]').waitFor();
  await expect.poll(() => page.locator('#history-table tr').count()).toBeGreaterThan(3);
  await expect.poll(() => page.locator('#channels-table tr[data-channel="room:lobby"] .subscribers').textContent()).toBe('3');
  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: SCREENSHOT_PATH });
  expect(page.errors).toEqual([]);
  await page.close();
});
