import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { describe, expect, test } from 'vitest';
import type { BusEvent } from '../../services/engine/bus.js';
import { AUTH, errorCode, publish, useSource } from '../support/source-app.js';

describe('POST /v1/channels/{channel}/events', () => {
  test('a published event is answered 200 with its id and reaches a bus subscriber with exactly the posted data', async () => {
    const { app, bus } = useSource({ now: () => 1732450000123 });
    const seen: BusEvent[] = [];
    await bus.subscribe('news', { onEvent: (e) => seen.push(e), onGap: () => {} });

    const response = await publish(app, 'news', '{"title":"hello","n":1.50}');

    expect(response.statusCode).toBe(200);
    const body = response.json() as { channel: string; id: string };
    expect(body).toEqual({ channel: 'news', id: expect.stringMatching(/^\d+-\d+$/) });
    expect(seen).toHaveLength(1);
    // The raw body is stored as written (serialized once): "1.50" keeps its spelling.
    expect(encodeEventMessage(seen[0]!).toString()).toBe(`{"type":"event","channel":"news","id":"${body.id}","data":{"title":"hello","n":1.50},"ts":1732450000123}`);
  });

  test.each([
    ['null', 'null'],
    ['a string', '"just text"'],
    ['a number', '42'],
    ['an array', '[1,"two",null]'],
    ['false', 'false'],
  ])('data may be any JSON value: %s', async (_name, body) => {
    const { app, stored } = useSource();
    const response = await publish(app, 'any', body);
    expect(response.statusCode).toBe(200);
    expect((await stored('any')).map((e) => e.data)).toEqual([JSON.parse(body)]);
  });

  test('a pretty-printed body is stored as one line, with the same value', async () => {
    const { app, bus } = useSource();
    await publish(app, 'news', '{\n  "a": [1,\n 2]\n}\n');
    const { events } = await bus.history('news', '0-0');
    expect(events[0]!.data.toString()).not.toMatch(/[\r\n]/);
    expect(JSON.parse(events[0]!.data.toString())).toEqual({ a: [1, 2] });
  });

  test('successive events of one channel get increasing ids', async () => {
    const { app } = useSource();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((((await publish(app, 'seq', String(i))).json()) as { id: string }).id);
    const parsed = ids.map((id) => id.split('-').map(Number) as [number, number]);
    for (let i = 1; i < parsed.length; i++) {
      const [a, b] = [parsed[i - 1]!, parsed[i]!];
      expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
    }
  });

  test('the content type may carry a charset parameter', async () => {
    const { app } = useSource();
    const response = await publish(app, 'news', '{}', { 'content-type': 'application/json; charset=utf-8' });
    expect(response.statusCode).toBe(200);
  });

  describe('publisher auth', () => {
    test('a request without Authorization is 401 unauthorized and stores nothing', async () => {
      const { app, stored } = useSource();
      const response = await app.inject({ method: 'POST', url: '/v1/channels/news/events', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(response.statusCode).toBe(401);
      expect(errorCode(response)).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(await stored('news')).toEqual([]);
    });

    test('a wrong key is 401 unauthorized and stores nothing', async () => {
      const { app, stored } = useSource();
      const response = await publish(app, 'news', '{}', { authorization: 'Bearer not-the-right-key-at-all' });
      expect(response.statusCode).toBe(401);
      expect(errorCode(response)).toBe('unauthorized');
      expect(await stored('news')).toEqual([]);
    });

    test('a key in another scheme than Bearer is 401 unauthorized', async () => {
      const { app } = useSource();
      const response = await publish(app, 'news', '{}', { authorization: AUTH.authorization.replace('Bearer', 'Basic') });
      expect(errorCode(response)).toBe('unauthorized');
    });

    test('credentials are checked before the body: an oversized unauthenticated body is 401, not 413', async () => {
      const { app } = useSource({ env: { MAX_EVENT_BYTES: '16' } });
      const response = await publish(app, 'news', JSON.stringify('x'.repeat(1000)), { authorization: 'Bearer wrong-key-wrong-key' });
      expect(response.statusCode).toBe(401);
    });

    test('with AUTH_DISABLED=true a request without credentials is accepted', async () => {
      const { app, stored } = useSource({ env: { AUTH_DISABLED: 'true' } });
      const response = await app.inject({ method: 'POST', url: '/v1/channels/news/events', headers: { 'content-type': 'application/json' }, payload: '1' });
      expect(response.statusCode).toBe(200);
      expect(await stored('news')).toHaveLength(1);
    });
  });

  describe('body', () => {
    test('text/plain is 415 unsupported_media_type', async () => {
      const { app, stored } = useSource();
      const response = await publish(app, 'news', '{}', { 'content-type': 'text/plain' });
      expect(response.statusCode).toBe(415);
      expect(errorCode(response)).toBe('unsupported_media_type');
      expect(await stored('news')).toEqual([]);
    });

    test('a request without Content-Type is 415 unsupported_media_type', async () => {
      const { app } = useSource();
      const response = await app.inject({ method: 'POST', url: '/v1/channels/news/events', headers: AUTH });
      expect(response.statusCode).toBe(415);
      expect(errorCode(response)).toBe('unsupported_media_type');
    });

    test('a body that is not JSON is 400 invalid_json', async () => {
      const { app, stored } = useSource();
      const response = await publish(app, 'news', '{"a":');
      expect(response.statusCode).toBe(400);
      expect(errorCode(response)).toBe('invalid_json');
      expect(await stored('news')).toEqual([]);
    });

    test('an empty body is 400 invalid_json', async () => {
      const { app } = useSource();
      const response = await publish(app, 'news', '');
      expect(response.statusCode).toBe(400);
      expect(errorCode(response)).toBe('invalid_json');
    });

    test('a body over MAX_EVENT_BYTES is 413 payload_too_large and stores nothing', async () => {
      const { app, stored } = useSource({ env: { MAX_EVENT_BYTES: '1024' } });
      const response = await publish(app, 'news', JSON.stringify('x'.repeat(1023)));
      expect(response.statusCode).toBe(413);
      expect(errorCode(response)).toBe('payload_too_large');
      expect(await stored('news')).toEqual([]);
    });

    test('a body of exactly MAX_EVENT_BYTES is accepted', async () => {
      const { app } = useSource({ env: { MAX_EVENT_BYTES: '1024' } });
      const response = await publish(app, 'news', JSON.stringify('x'.repeat(1022)));
      expect(response.statusCode).toBe(200);
    });
  });

  test.each([
    ['a space', 'bad%20channel'],
    ['a slash', 'a%2Fb'],
    ['129 characters', 'c'.repeat(129)],
  ])('a channel name with %s is 400 invalid_channel and stores nothing', async (_name, channel) => {
    const { app, stored } = useSource();
    const response = await publish(app, channel, '{}');
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_channel');
    expect(await stored(decodeURIComponent(channel))).toEqual([]);
  });

  test('a namespaced channel name such as orders:eu is accepted', async () => {
    const { app } = useSource();
    expect((await publish(app, 'orders:eu', '{}')).json()).toMatchObject({ channel: 'orders:eu' });
  });
});
