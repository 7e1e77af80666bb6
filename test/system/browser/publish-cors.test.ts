import Fastify from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadConsoleAssets } from '../../../services/client-server/console/console-assets.js';
import { registerConsole } from '../../../services/client-server/console/console-routes.js';
import { MemoryBus } from '../../../services/engine/memory/memory-bus.js';
import { loadConfig } from '../../../services/runtime/config/load.js';
import { buildSourceApp } from '../../../services/source-server/app.js';
import { registerPublishCors } from '../../../services/source-server/plugins/cors.js';
import { engineOf } from '../../support/engines.js';

const CONSOLE = 'http://localhost:8081';
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function sourceApp(origins: string[], env: Record<string, string> = { AUTH_DISABLED: 'true' }) {
  const config = loadConfig(env);
  const logger = pino({ level: 'silent' });
  const bus = new MemoryBus({ config, logger });
  const app = buildSourceApp({ config, logger, engine: engineOf(bus) });
  registerPublishCors(app, origins);
  closers.push(async () => {
    await app.close();
    await bus.close();
  });
  return app;
}

const preflight = { method: 'OPTIONS' as const, url: '/v1/channels/demo/events', headers: { origin: CONSOLE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } };
const post = (origin: string) => ({ method: 'POST' as const, url: '/v1/channels/demo/events', headers: { origin, 'content-type': 'application/json' }, payload: '{"a":1}' });

describe('publish CORS', () => {
  test('an allowed origin passes the preflight and can read the publish answer', async () => {
    const app = sourceApp([CONSOLE]);
    const pre = await app.inject(preflight);
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(pre.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const res = await app.inject(post(CONSOLE));
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(res.headers['access-control-expose-headers']).toMatch(/Idempotent-Replayed/);
  });

  test('a refusal carries the headers too, so the page can show its code', async () => {
    const app = sourceApp([CONSOLE], { PUBLISHER_KEYS: 'a-publisher-key-of-16+chars' });
    const res = await app.inject(post(CONSOLE));
    expect(res.json().error.code).toBe('unauthorized');
    expect(res.headers['access-control-allow-origin']).toBe(CONSOLE);
  });

  test('an origin not listed gets no allow header', async () => {
    const app = sourceApp([CONSOLE]);
    const res = await app.inject(post('https://evil.example'));
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await app.inject({ ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } })).headers['access-control-allow-methods']).toBeUndefined();
  });

  test('with no origins configured (the default) nothing changes: no CORS, preflight not_found', async () => {
    const app = sourceApp([]);
    expect((await app.inject(post(CONSOLE))).headers['access-control-allow-origin']).toBeUndefined();
    const pre = await app.inject(preflight);
    expect(pre.statusCode).toBe(404);
    expect(pre.json().error.code).toBe('not_found');
  });
});

describe('console routes', () => {
  const assets = () => loadConsoleAssets(fileURLToPath(new URL('../../../', import.meta.url)));
  function consoleApp(env: Record<string, string> = {}, consoleAssets = assets()) {
    const app = Fastify();
    closers.push(() => app.close());
    registerConsole(app, consoleAssets, loadConfig({ AUTH_DISABLED: 'true', ...env }));
    return app;
  }

  test('only the console files are served: other names and missing builds answer not_found', async () => {
    // A checkout whose SDK bundle was never built.
    const app = consoleApp({}, { ...assets(), sdk: undefined });
    expect((await app.inject('/console/console.js')).statusCode).toBe(200);
    for (const url of ['/console/..%2F..%2F..%2Fpackage.json', '/console/index.html', '/sdk/eventrelay.js']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
  });

  test('the page learns the source-server address from CONSOLE_SOURCE_URL, else gets SOURCE_PORT to use with its own host', async () => {
    const configured = await consoleApp({ CONSOLE_SOURCE_URL: 'https://relay.example.com/source', SOURCE_PORT: '28080' }).inject('/console/config.json');
    expect(configured.json()).toEqual({ sourceUrl: 'https://relay.example.com/source', sourcePort: 28080, authDisabled: true });
    const fallback = await consoleApp({ SOURCE_PORT: '28080' }).inject('/console/config.json');
    expect(fallback.json()).toEqual({ sourceUrl: null, sourcePort: 28080, authDisabled: true });
  });

  test('a CONSOLE_SOURCE_URL that is not an http(s) URL stops the start, naming the variable', () => {
    expect(() => loadConfig({ AUTH_DISABLED: 'true', CONSOLE_SOURCE_URL: 'localhost:8080' })).toThrow(/CONSOLE_SOURCE_URL/);
  });

  test('the favicon is served (no 404 in the page console)', async () => {
    const res = await consoleApp().inject('/favicon.ico');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
  });

  test('CONSOLE_ENABLED=false answers the console routes 404; the SDK bundle stays', async () => {
    const app = consoleApp({ CONSOLE_ENABLED: 'false' });
    for (const url of ['/', '/console/console.js', '/console/config.json', '/favicon.ico']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
    }
    expect((await app.inject('/sdk/eventrelay.js')).statusCode).toBe(200);
  });
});
