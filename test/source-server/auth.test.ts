import { describe, expect, test } from 'vitest';
import { AUTH_MESSAGES } from '../../services/source-server/plugins/auth.js';
import { PUBLISHER_KEY, publish, useSource, type LogLine } from '../support/source-app.js';

const refusals = (logs: LogLine[]) => logs.filter((l) => l.msg === 'publisher credentials refused');

/** Every route that takes a publisher key: the two publishes and the server API. */
const ROUTES = [
  { method: 'POST', url: '/v1/channels/news/events' },
  { method: 'POST', url: '/v1/events' },
  { method: 'GET', url: '/v1/channels/news/events' },
  { method: 'GET', url: '/v1/channels/news' },
  { method: 'GET', url: '/v1/channels' },
  { method: 'GET', url: '/v1/channels/news/presence' },
  { method: 'POST', url: '/v1/users/u1/disconnect' },
] as const;

describe('publisher credentials', () => {
  test('a request without a key is told how to send one, 401 unauthorized, logged at info as missing', async () => {
    const { app, logs } = useSource();
    const response = await app.inject({ method: 'POST', url: '/v1/channels/news/events', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: 'Send a publisher key as Authorization: Bearer <key>.' } });
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(refusals(logs)).toEqual([expect.objectContaining({ level: 30, reason: 'missing' })]);
  });

  test('a key in another scheme than Bearer gets the same how-to message, logged as not-bearer', async () => {
    const { app, logs } = useSource();
    const response = await publish(app, 'news', '{}', { authorization: `Basic ${PUBLISHER_KEY}` });
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: AUTH_MESSAGES.missing } });
    expect(refusals(logs)).toEqual([expect.objectContaining({ level: 30, reason: 'not-bearer' })]);
  });

  test('a key that is not configured is rejected as such, 401 unauthorized, logged as unknown-key without the key', async () => {
    const { app, logs, rawLogs } = useSource();
    const response = await publish(app, 'news', '{}', { authorization: 'Bearer some-key-we-never-issued' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'unauthorized', message: 'The publisher key was rejected.' } });
    expect(refusals(logs)).toEqual([expect.objectContaining({ level: 30, reason: 'unknown-key' })]);
    expect(rawLogs.join('')).not.toContain('some-key-we-never-issued');
  });

  test('a valid key logs no refusal', async () => {
    const { app, logs } = useSource();
    expect((await publish(app, 'news', '{}')).statusCode).toBe(200);
    expect(refusals(logs)).toEqual([]);
  });

  test.each(ROUTES)('$method $url needs the publisher key: missing and rejected are told apart', async ({ method, url }) => {
    const { app } = useSource();
    const missing = await app.inject({ method, url });
    const rejected = await app.inject({ method, url, headers: { authorization: 'Bearer not-a-key-of-ours' } });
    expect([missing.statusCode, rejected.statusCode]).toEqual([401, 401]);
    expect(missing.json()).toEqual({ error: { code: 'unauthorized', message: AUTH_MESSAGES.missing } });
    expect(rejected.json()).toEqual({ error: { code: 'unauthorized', message: AUTH_MESSAGES['unknown-key'] } });
  });

  test('with AUTH_DISABLED=true the server API answers without a key', async () => {
    const { app } = useSource({ env: { AUTH_DISABLED: 'true' } });
    const response = await app.inject({ method: 'GET', url: '/v1/channels/news' });
    expect(response.statusCode).toBe(200);
  });
});
