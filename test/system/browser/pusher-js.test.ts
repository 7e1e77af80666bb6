import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium } from '../../support/chromium.js';
import type { LocalStack } from '../../support/local-stack.js';
import { APP, pusherServer, startPusherStack } from '../../support/pusher-clients.js';

// The CDN-style bundle exactly as the npm package ships it (window.Pusher).
const BUNDLE = readFileSync(createRequire(import.meta.url).resolve('pusher-js/dist/web/pusher.js'), 'utf8');

let browser: Browser;
let stack: LocalStack;
let site: Server;
let port: number;

beforeAll(async () => {
  // The app's own site: the page, the bundle, and the channel auth endpoint signing with its secret.
  site = createServer((req, res) => {
    if (req.url === '/pusher.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(BUNDLE);
    if (req.url === '/auth' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { socketId, channelName } = JSON.parse(body) as { socketId: string; channelName: string };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pusherServer({ sourceUrl: 'http://127.0.0.1:1' }).authorizeChannel(socketId, channelName)));
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>pusher</title><script src="/pusher.js"></script>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  port = (site.address() as { port: number }).port;
  // Only the site's 127.0.0.1 origin may connect: http://localhost:<port> is another origin.
  stack = await startPusherStack({ clients: 1, env: { ALLOWED_ORIGINS: `http://127.0.0.1:${port}` } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((r) => site?.close(r));
});

/** Opens the site at `host` and starts pusher-js there against the client-server. */
async function open(host: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`http://${host}:${port}/`);
  const client = new URL(stack.clientUrls[0]!);
  await page.evaluate(
    ({ key, wsHost, wsPort }) => {
      const w = window as unknown as { Pusher: new (key: string, options: unknown) => unknown; pusher: unknown; got: unknown[]; errors: unknown[] };
      w.got = [];
      w.errors = [];
      const pusher = new w.Pusher(key, {
        cluster: '',
        wsHost,
        wsPort,
        forceTLS: false,
        enabledTransports: ['ws'],
        channelAuthorization: {
          customHandler: (params: unknown, cb: (e: unknown, d: unknown) => void) =>
            fetch('/auth', { method: 'POST', body: JSON.stringify(params) })
              .then((r) => r.json())
              .then((d) => cb(null, d), (e) => cb(e, null)),
        },
      }) as { subscribe(n: string): { bind(e: string, f: (d: unknown) => void): void }; connection: { bind(e: string, f: (d: unknown) => void): void; state: string } };
      w.pusher = pusher;
      pusher.connection.bind('error', (e) => w.errors.push(e));
      const channel = pusher.subscribe('private-browser');
      channel.bind('pusher:subscription_succeeded', () => w.got.push('subscribed'));
      channel.bind('hello', (d) => w.got.push(d));
    },
    { key: APP.key, wsHost: client.hostname, wsPort: Number(client.port) },
  );
  return page;
}

describe('pusher-js from its npm package bundle in headless Chromium', () => {
  test('subscribes a private channel through the page\'s auth endpoint and receives an event triggered by the SDK', async () => {
    const page = await open('127.0.0.1');
    const got = () => page.evaluate(() => (window as unknown as { got: unknown[] }).got);
    await expect.poll(got, { timeout: 10_000 }).toEqual(['subscribed']);
    await pusherServer(stack).trigger('private-browser', 'hello', { from: 'server' });
    await expect.poll(got, { timeout: 10_000 }).toEqual(['subscribed', { from: 'server' }]);
    await page.close();
  }, 30_000);

  test('a page of an origin ALLOWED_ORIGINS does not list is closed with 4009 (never an HTTP refusal) and pusher-js stays disconnected', async () => {
    const page = await open('localhost');
    const state = () => page.evaluate(() => (window as unknown as { pusher: { connection: { state: string } } }).pusher.connection.state);
    await expect.poll(state, { timeout: 10_000 }).toBe('disconnected');
    expect(JSON.stringify(await page.evaluate(() => (window as unknown as { errors: unknown[] }).errors))).toContain('4009');
    await page.close();
  }, 30_000);
});
