import { describe, expect, test } from 'vitest';
import { AUTH, useSource } from '../support/source-app.js';

const CONSOLE = 'http://localhost:8081';
const ALLOWED = { env: { PUBLISH_ALLOWED_ORIGINS: CONSOLE } };

describe('CORS of the server API (PUBLISH_ALLOWED_ORIGINS)', () => {
  test('a preflight for a GET from an allowed origin allows GET and POST with the Authorization header', async () => {
    const { app } = useSource(ALLOWED);
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/channels/news/events?limit=10',
      headers: { origin: CONSOLE, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(CONSOLE);
    expect(String(response.headers['access-control-allow-methods']).split(/,\s*/)).toEqual(['GET', 'POST']);
    expect(String(response.headers['access-control-allow-headers'])).toMatch(/Authorization/);
  });

  test.each([
    ['GET', '/v1/channels/news/events'],
    ['GET', '/v1/channels/news'],
    ['GET', '/v1/channels'],
    ['GET', '/v1/channels/news/presence'],
    ['POST', '/v1/users/u1/disconnect'],
  ] as const)('%s %s answers an allowed origin with Access-Control-Allow-Origin', async (method, url) => {
    const { app } = useSource(ALLOWED);
    const response = await app.inject({ method, url, headers: { ...AUTH, origin: CONSOLE } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(CONSOLE);
  });

  test('a refusal carries the CORS headers too, so that the page can read its code', async () => {
    const { app } = useSource(ALLOWED);
    const response = await app.inject({ method: 'GET', url: '/v1/channels', headers: { origin: CONSOLE } });
    expect(response.statusCode).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(CONSOLE);
  });

  test('another origin gets no allow headers', async () => {
    const { app } = useSource(ALLOWED);
    const response = await app.inject({ method: 'GET', url: '/v1/channels', headers: { ...AUTH, origin: 'https://evil.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
