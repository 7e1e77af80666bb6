import { describe, expect, test } from 'vitest';
import { publisherScope } from '../../services/source-server/plugins/auth.js';
import { AUTH, PUBLISHER_KEY, publish, publishBatch, useSource, type LogLine } from '../support/source-app.js';

/** A Redis password in the configuration: it must not reach a log line either. */
const REDIS_PASSWORD = 'redis-password-never-logged';
const env = { REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:6399` };

const info = (logs: LogLine[]) => logs.filter((l) => l.level >= 30);
const requestLines = (logs: LogLine[]) => logs.filter((l) => l.msg === 'request completed');

describe('request logs of the source-server', () => {
  test('a publish gives exactly one info line: method, route, status, duration and the key digest as subject', async () => {
    const { app, logs } = useSource({ env });
    expect((await publish(app, 'news', '{"n":1}')).statusCode).toBe(200);
    expect(info(logs)).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        method: 'POST',
        route: '/v1/channels/:channel/events',
        path: '/v1/channels/news/events',
        status: 200,
        durationMs: expect.any(Number),
        subject: publisherScope(PUBLISHER_KEY),
        reqId: expect.any(String),
      }),
    ]);
  });

  test('each request of a sequence gives its own one line, errors with their code', async () => {
    const { app, logs } = useSource({ env });
    await publish(app, 'news', '1');
    await publishBatch(app, { events: [{ channel: 'a', data: 1 }, { channel: 'b', data: 2 }] });
    await publish(app, 'news', '{');
    await app.inject({ method: 'GET', url: '/v1/channels/news/events', headers: AUTH });
    await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    const lines = requestLines(logs);
    expect(lines.map((l) => [l.method, l.route, l.status, l.code])).toEqual([
      ['POST', '/v1/channels/:channel/events', 200, undefined],
      ['POST', '/v1/events', 200, undefined],
      ['POST', '/v1/channels/:channel/events', 400, 'invalid_json'],
      ['GET', '/v1/channels/:channel/events', 200, undefined],
      ['GET', undefined, 404, 'not_found'],
    ]);
    expect(info(logs)).toHaveLength(lines.length);
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(lines.length);
  });

  test('a refused key is logged with its reason and the request line, neither naming the key', async () => {
    const { app, logs, rawLogs } = useSource({ env });
    await publish(app, 'news', '{}', { authorization: 'Bearer wrong-key-but-still-secret' });
    expect(info(logs).map((l) => l.msg)).toEqual(['publisher credentials refused', 'request completed']);
    expect(requestLines(logs)[0]).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(requestLines(logs)[0]!.subject).toBeUndefined();
    expect(rawLogs.join('')).not.toContain('wrong-key-but-still-secret');
  });

  test('no line holds the publisher key, a body, the Redis password or the query string', async () => {
    const { app, rawLogs } = useSource({ env });
    await publish(app, 'news', '{"secret":"not logged either"}');
    await app.inject({ method: 'GET', url: '/v1/channels/news/events?limit=1&token=query-secret', headers: AUTH });
    const all = rawLogs.join('');
    expect(all).toContain('request completed');
    for (const secret of [PUBLISHER_KEY, 'not logged either', REDIS_PASSWORD, 'query-secret']) expect(all).not.toContain(secret);
  });

  test('probes and /metrics log nothing at info', async () => {
    const { app, logs } = useSource({ env });
    for (const url of ['/healthz', '/readyz', '/metrics']) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    expect(info(logs)).toEqual([]);
  });

  test('nothing per event is logged above debug', async () => {
    const { app, logs } = useSource({ env });
    await publishBatch(app, { events: [{ channel: 'a', data: 1 }, { channel: 'b', data: 2 }] });
    expect(info(logs).map((l) => l.msg)).toEqual(['request completed']);
    expect(logs.some((l) => l.level === 20 && l.msg === 'published')).toBe(true);
  });

  test('a path fastify cannot route is logged once too', async () => {
    const { app, logs } = useSource({ env });
    expect((await app.inject({ method: 'POST', url: '/v1/channels/%ZZ/events', headers: AUTH, payload: '{}' })).statusCode).toBe(400);
    expect(info(logs)).toEqual([expect.objectContaining({ msg: 'request completed', method: 'POST', status: 400, code: 'invalid_request' })]);
  });
});
