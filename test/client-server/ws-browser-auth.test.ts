import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import { SECRET, startClientServer, type ClientFixture } from '../support/client-server.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * PROTOCOL.md: a rejected credential is refused at the upgrade with 401 "or
 * the socket is closed at once with 4001". A browser cannot read a 401 at
 * the upgrade (it reports 1006), so an upgrade with an Origin header (a
 * page) is accepted and closed with 4001 and the reason; every other client
 * keeps the 401 (test/client-server/ws.test.ts, "WebSocket authentication").
 */
const PAGE = { origin: 'http://localhost:8081' };

let server: ClientFixture;
beforeAll(async () => {
  server = await startClientServer({ ALLOWED_ORIGINS: PAGE.origin });
});
afterAll(async () => {
  await server.close();
});

/** Opens as a page would and waits for the close; no message may come before it. */
async function refusedAsBrowser(token?: string): Promise<{ code: number; reason: string; messages: number }> {
  const socket = await TestSocket.open(server.wsUrl, { token, headers: PAGE });
  const code = await socket.waitClosed();
  return { code, reason: socket.closeReason, messages: socket.messages.length };
}

describe('a browser whose credentials are refused', () => {
  test('without a token: the upgrade is accepted and closed with 4001 saying a token is required', async () => {
    expect(await refusedAsBrowser()).toEqual({ code: 4001, reason: expect.stringMatching(/^A subscriber token is required/), messages: 0 });
  });

  test('with an expired token: closed with 4001 and the reason, token expired', async () => {
    const expired = signJwt(SECRET, { channels: ['*'], exp: Math.floor(Date.now() / 1000) - 10 });
    expect(await refusedAsBrowser(expired)).toMatchObject({ code: 4001, reason: expect.stringMatching(/token expired/) });
  });

  test('with a token signed by another secret: closed with 4001', async () => {
    const forged = signJwt('another-secret-another-secret-another', { channels: ['*'] });
    expect(await refusedAsBrowser(forged)).toMatchObject({ code: 4001, reason: expect.stringMatching(/rejected/) });
  });

  test('is counted as an unauthorized error and subscribes nothing', async () => {
    await refusedAsBrowser();
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/eventrelay_errors_total\{[^}]*code="unauthorized"[^}]*\} [1-9]/);
    expect(server.app.clientRelay.connections.size).toBe(0);
  });
});

describe('what stays as it was', () => {
  test('a client without an Origin header (not a browser) still gets the 401 with its coded body', async () => {
    const refusal = await TestSocket.open(server.wsUrl).catch((err: { status: number; body: string }) => err);
    expect(refusal).toMatchObject({ status: 401 });
    expect(JSON.parse((refusal as { body: string }).body)).toMatchObject({ error: { code: 'unauthorized' } });
  });

  test('a page from an origin not allowed is refused with 403 before its token is looked at', async () => {
    await expect(TestSocket.open(server.wsUrl, { headers: { origin: 'https://evil.example.com' } })).rejects.toMatchObject({ status: 403 });
  });

  test('a page with a valid token connects and subscribes', async () => {
    const socket = await TestSocket.open(server.wsUrl, { token: server.token(['news']), headers: PAGE });
    try {
      expect(await socket.subscribe('news')).toMatchObject({ type: 'subscribed' });
    } finally {
      socket.close();
    }
  });
});
