import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
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
/** Every multi-channel SSE request: its Last-Event-ID, and its TCP socket (to kill it server-side). */
const multiRequests: { lastEventId?: string; socket: Socket }[] = [];

beforeAll(async () => {
  const config = loadConfig({ AUTH_DISABLED: 'true' });
  const logger = pino({ level: 'silent' });
  engine = createMemoryEngine({ config, logger });
  client = await buildClientApp({ config, logger, engine });
  client.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== '/v1/sse') return;
    const header = request.headers['last-event-id'];
    multiRequests.push({ lastEventId: typeof header === 'string' ? header : undefined, socket: request.raw.socket });
  });
  await client.listen({ host: '127.0.0.1', port: 0 });
  clientUrl = `http://127.0.0.1:${(client.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await client?.close();
  await engine?.close();
});

const publish = async (data: unknown, channel = 'demo') => (await engine.bus.publish([{ channel, data: JSON.stringify(data), ts: Date.now() }]))[0]!.id;

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

test("a multi-channel stream resumes every channel through the browser's own reconnection, the cursor as Last-Event-ID, without gap or duplicate", async () => {
  const channels = ['room:a', 'room:b', 'room:c'];
  // room:c held an event before: the stream starts after it, and must not replay it on resume.
  await publish('old', 'room:c');
  const page = await browser.newPage();
  await page.goto(`${clientUrl}/healthz`);
  await page.evaluate((url) => {
    const w = window as unknown as { received: { id: string; lastEventId: string }[]; opened: string[] };
    w.received = [];
    w.opened = [];
    const source = new EventSource(url);
    source.addEventListener('subscribed', (e) => w.opened.push((e as MessageEvent).data as string));
    source.onmessage = (e) => {
      const event = JSON.parse(e.data as string) as { channel: string; id: string };
      // Ids are per channel: the same id can appear in two channels.
      w.received.push({ id: `${event.channel} ${event.id}`, lastEventId: e.lastEventId });
    };
  }, `${clientUrl}/v1/sse?channels=${channels.join(',')}`);
  const opened = () => page.evaluate(() => (window as unknown as { opened: string[] }).opened.length);
  const received = () => page.evaluate(() => (window as unknown as { received: { id: string; lastEventId: string }[] }).received);
  const kill = () => multiRequests[multiRequests.length - 1]!.socket.destroy();
  const published: string[] = [];
  const publishRound = async (label: string) => {
    for (const c of channels) published.push(`${c} ${await publish(label, c)}`);
  };
  await expect.poll(opened, { timeout: 10_000 }).toBe(3);

  // Killed before any event: the browser resumes from the cursor of the last `subscribed` event.
  kill();
  await publishRound('during the first outage');
  await expect.poll(opened, { timeout: 15_000 }).toBe(6);
  expect(multiRequests).toHaveLength(2);
  expect(multiRequests[1]!.lastEventId).toMatch(/^1[0-9A-Za-z]{4}\./);
  await publishRound('live');
  await expect.poll(async () => (await received()).length, { timeout: 10_000 }).toBe(6);

  // Killed after events: the browser resends the last event's cursor.
  const lastSeen = (await received()).at(-1)!.lastEventId;
  kill();
  await publishRound('during the second outage');
  await expect.poll(opened, { timeout: 15_000 }).toBe(9);
  expect(multiRequests[2]!.lastEventId).toBe(lastSeen);
  await publishRound('after');

  await expect.poll(async () => (await received()).map((r) => r.id).sort(), { timeout: 10_000 }).toEqual([...published].sort());
  // In id order within each channel.
  const ids = (await received()).map((r) => r.id);
  for (const c of channels) {
    const mine = published.filter((p) => p.startsWith(`${c} `));
    expect(ids.filter((id) => id.startsWith(`${c} `))).toEqual(mine);
  }
  await page.close();
}, 60_000);
