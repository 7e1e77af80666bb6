import { afterEach, describe, expect, test } from 'vitest';
import { TestSocket } from '../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';
import { publish, useSource } from '../support/source-app.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

describe('WebSocket Origin allow-list (ALLOWED_ORIGINS)', () => {
  let server: ClientFixture;
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    await server.close();
  });

  async function open(origin?: string): Promise<TestSocket | { status: number; body: string }> {
    try {
      const socket = await TestSocket.open(server.wsUrl, { token: server.token(['*']), headers: origin ? { origin } : {} });
      sockets.push(socket);
      return socket;
    } catch (err) {
      return err as { status: number; body: string };
    }
  }

  test('an upgrade from an origin not listed is refused with 403 forbidden', async () => {
    server = await startClientServer({ ALLOWED_ORIGINS: `${APP},http://localhost:3000` });
    const refused = await open(EVIL);
    expect(refused).not.toBeInstanceOf(TestSocket);
    expect((refused as { status: number }).status).toBe(403);
    expect(JSON.parse((refused as { body: string }).body).error.code).toBe('forbidden');
    // Lookalikes are other origins.
    for (const lookalike of [`${APP}.evil.net`, 'http://app.example.com', `${APP}:8443`, 'null']) {
      expect(((await open(lookalike)) as { status: number }).status).toBe(403);
    }
  });

  test('a listed origin, and a client that sends no Origin (not a browser), connect', async () => {
    server = await startClientServer({ ALLOWED_ORIGINS: APP });
    expect(await open(APP)).toBeInstanceOf(TestSocket);
    expect(await open()).toBeInstanceOf(TestSocket);
  });
});

describe('CORS on the publish API', () => {
  test('is off by default: no publish answer carries Access-Control-Allow-Origin, and a preflight is not granted', async () => {
    const { app } = useSource();
    const ok = await publish(app, 'news', '{}', { origin: EVIL });
    expect(ok.statusCode).toBe(200);
    const refused = await publish(app, 'news', '{}', { origin: EVIL, authorization: 'Bearer wrong-key-wrong-key-0000' });
    expect(refused.statusCode).toBe(401);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/channels/news/events', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    for (const res of [ok, refused, preflight]) {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-headers']).toBeUndefined();
    }
  });

  test('PUBLISH_ALLOWED_ORIGINS turns it on for the listed origins only', async () => {
    const { app } = useSource({ env: { PUBLISH_ALLOWED_ORIGINS: APP } });
    expect((await publish(app, 'news', '{}', { origin: APP })).headers['access-control-allow-origin']).toBe(APP);
    expect((await publish(app, 'news', '{}', { origin: EVIL })).headers['access-control-allow-origin']).toBeUndefined();
  });
});
