import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMemoryEngine, type MemoryEngine } from '../../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../../services/runtime/config/load.js';
import { buildClientApp } from '../../../services/client-server/app.js';
import { launchChromium } from '../../support/chromium.js';

let browser: Browser;
let client: FastifyInstance;
let engine: MemoryEngine;
let clientUrl: string;

beforeAll(async () => {
  const config = loadConfig({ AUTH_DISABLED: 'true' });
  const logger = pino({ level: 'silent' });
  engine = createMemoryEngine({ config, logger });
  client = await buildClientApp({ config, logger, engine });
  await client.listen({ host: '127.0.0.1', port: 0 });
  clientUrl = `http://127.0.0.1:${(client.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await engine?.close();
});

const publish = async (data: unknown) => (await engine.bus.publish([{ channel: 'demo', data: JSON.stringify(data), ts: Date.now() }]))[0]!.id;

test("a browser's own EventSource reconnection resumes with Last-Event-ID, without gap or duplicate", async () => {
  const page = await browser.newPage();
  await page.goto(`${clientUrl}/healthz`);
  await page.evaluate((url) => {
    const w = window as unknown as { received: string[]; opened: string[] };
    w.received = [];
    w.opened = [];
    const source = new EventSource(url);
    source.addEventListener('subscribed', (e) => w.opened.push((e as MessageEvent).data as string));
    source.onmessage = (e) => w.received.push(e.lastEventId);
  }, `${clientUrl}/v1/sse/demo`);
  const opened = () => page.evaluate(() => (window as unknown as { opened: string[] }).opened);
  const received = () => page.evaluate(() => (window as unknown as { received: string[] }).received);
  await expect.poll(opened, { timeout: 10_000 }).toHaveLength(1);

  const before = [await publish(1), await publish(2), await publish(3)];
  await expect.poll(received, { timeout: 10_000 }).toEqual(before);

  // The server ends every stream (as a drain or a lost-history gap does); the browser reconnects by itself.
  await client.clientRelay.connections.drain(0);
  const during = [await publish(4), await publish(5), await publish(6)];
  await expect.poll(opened, { timeout: 15_000 }).toHaveLength(2);
  const after = [await publish(7)];
  await expect.poll(received, { timeout: 10_000 }).toEqual([...before, ...during, ...after]);
  expect(JSON.parse((await opened())[1]!)).toEqual({ type: 'subscribed', channel: 'demo', recovered: true });
  await page.close();
}, 40_000);
