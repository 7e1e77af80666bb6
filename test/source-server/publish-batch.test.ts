import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { describe, expect, test } from 'vitest';
import { MAX_JSON_DEPTH } from '../../services/protocol/raw-json.js';
import { AUTH, errorCode, publishBatch, useSource } from '../support/source-app.js';

interface Results {
  results: { channel: string; id: string; replayed?: boolean }[];
}

describe('POST /v1/events (batch)', () => {
  test('results come in request order and each channel keeps its request order', async () => {
    const { app, stored } = useSource();
    const events = [
      { channel: 'a', data: 1 },
      { channel: 'b', data: 'x' },
      { channel: 'a', data: 2 },
      { channel: 'b', data: null },
      { channel: 'a', data: { three: 3 } },
    ];
    const response = await publishBatch(app, { events });

    expect(response.statusCode).toBe(200);
    const { results } = response.json() as Results;
    expect(results.map((r) => r.channel)).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(results.every((r) => r.replayed === undefined)).toBe(true);
    const a = await stored('a');
    expect(a.map((e) => e.data)).toEqual([1, 2, { three: 3 }]);
    expect(a.map((e) => e.id)).toEqual([results[0]!.id, results[2]!.id, results[4]!.id]);
    expect((await stored('b')).map((e) => e.data)).toEqual(['x', null]);
  });

  test('every event of a batch carries the receive time as ts', async () => {
    const { app, stored } = useSource({ now: () => 1700000000000 });
    await publishBatch(app, { events: [{ channel: 'a', data: 1 }, { channel: 'a', data: 2 }] });
    expect((await stored('a')).map((e) => e.ts)).toEqual([1700000000000, 1700000000000]);
  });

  test('a key repeated inside one batch stores one event; both results carry its id and the later one replayed:true', async () => {
    const { app, stored } = useSource();
    const response = await publishBatch(app, {
      events: [
        { channel: 'a', data: 'first', idempotencyKey: 'k1' },
        { channel: 'a', data: 'second', idempotencyKey: 'k1' },
      ],
    });
    const { results } = response.json() as Results;
    expect(results[0]).toEqual({ channel: 'a', id: results[1]!.id });
    expect(results[1]).toEqual({ channel: 'a', id: results[0]!.id, replayed: true });
    expect((await stored('a')).map((e) => e.data)).toEqual(['first']);
  });

  test('a retried batch replays every keyed event', async () => {
    const { app, stored } = useSource();
    const batch = { events: [{ channel: 'a', data: 1, idempotencyKey: 'k1' }, { channel: 'b', data: 2, idempotencyKey: 'k2' }] };
    const first = (await publishBatch(app, batch)).json() as Results;
    const retry = (await publishBatch(app, batch)).json() as Results;
    expect(retry.results).toEqual(first.results.map((r) => ({ ...r, replayed: true })));
    expect(await stored('a')).toHaveLength(1);
  });

  describe('one bad event rejects the whole batch, with the index of the first bad one', () => {
    const good = (i: number) => ({ channel: 'ok', data: i });
    test.each([
      ['an invalid channel name', { channel: 'no spaces', data: 1 }, 400, 'invalid_channel'],
      ['a missing channel', { data: 1 }, 400, 'invalid_request'],
      ['missing data', { channel: 'ok' }, 400, 'invalid_request'],
      ['a bad idempotency key', { channel: 'ok', data: 1, idempotencyKey: 'has space' }, 400, 'invalid_request'],
      ['a field other than channel, data and idempotencyKey', { channel: 'ok', data: 1, ttl: 60 }, 400, 'invalid_request'],
      ['a misspelt idempotency key field', { channel: 'ok', data: 1, idempotency_key: 'k' }, 400, 'invalid_request'],
      ['data nested deeper than MAX_JSON_DEPTH', { channel: 'ok', data: JSON.parse('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)) as unknown }, 400, 'invalid_request'],
      ['not an object', 'just a string', 400, 'invalid_request'],
      ['data over MAX_EVENT_BYTES', { channel: 'ok', data: 'x'.repeat(1024) }, 413, 'payload_too_large'],
    ])('%s at index 3: nothing is stored', async (_name, bad, status, code) => {
      const { app, stored } = useSource({ env: { MAX_EVENT_BYTES: '1024' } });
      const events: unknown[] = [good(0), good(1), good(2), bad, good(4), { channel: 'also bad', data: 5 }];
      const response = await publishBatch(app, { events });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toEqual({ error: { code, message: expect.any(String), index: 3 } });
      expect(await stored('ok')).toEqual([]);
    });
  });

  test('data keeps every digit: 12345678901234567890 is stored as sent, not as 12345678901234567000', async () => {
    const { app, bus } = useSource({ now: () => 1732450000000 });
    const body = '{"events":[{"channel":"big","data":{"n":12345678901234567890,"f":1.50,"e":1E400,"s":"\\u00e9"}}]}';
    const response = await publishBatch(app, body);

    expect(response.statusCode).toBe(200);
    const { results } = response.json() as Results;
    const { events } = await bus.history('big', '0-0');
    expect(encodeEventMessage(events[0]!).toString()).toBe(
      `{"type":"event","channel":"big","id":"${results[0]!.id}","data":{"n":12345678901234567890,"f":1.50,"e":1E400,"s":"\\u00e9"},"ts":1732450000000}`,
    );
  });

  test('a pretty-printed batch stores each data on one line with its digits, and single-line data exactly as written', async () => {
    const { app, bus } = useSource();
    const body = '{\n  "events": [\n    {"channel": "a", "data": {\n      "n": 12345678901234567890,\n      "s": "two  spaces"\n    }},\n    {"data": [1, 2.0], "channel": "a"}\n  ]\n}\n';
    expect((await publishBatch(app, body)).statusCode).toBe(200);
    const { events } = await bus.history('a', '0-0');
    expect(events.map((e) => e.data.toString())).toEqual(['{"n":12345678901234567890,"s":"two  spaces"}', '[1, 2.0]']);
  });

  test('a repeated data field counts once, the last, as JSON.parse reads it', async () => {
    const { app, bus } = useSource();
    expect((await publishBatch(app, '{"events":[{"channel":"a","data":1,"data":{"last":2}}]}')).statusCode).toBe(200);
    expect((await bus.history('a', '0-0')).events.map((e) => e.data.toString())).toEqual(['{"last":2}']);
  });

  test('a __proto__ field is a field like any other: 400 invalid_request with its index', async () => {
    const { app } = useSource();
    const response = await publishBatch(app, '{"events":[{"channel":"a","data":1},{"channel":"a","data":1,"__proto__":{}}]}');
    expect(response.json()).toEqual({ error: { code: 'invalid_request', message: expect.any(String), index: 1 } });
  });

  test(`data nested exactly MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) deep is stored`, async () => {
    const { app } = useSource();
    const data = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect((await publishBatch(app, `{"events":[{"channel":"a","data":${data}}]}`)).statusCode).toBe(200);
  });

  test('data: null is an event, not a missing field', async () => {
    const { app, stored } = useSource();
    const response = await publishBatch(app, { events: [{ channel: 'a', data: null }] });
    expect(response.statusCode).toBe(200);
    expect((await stored('a')).map((e) => e.data)).toEqual([null]);
  });

  test('data is measured as it is stored: exactly MAX_EVENT_BYTES is accepted', async () => {
    const { app } = useSource({ env: { MAX_EVENT_BYTES: '1024' } });
    const response = await publishBatch(app, { events: [{ channel: 'a', data: 'x'.repeat(1022) }] });
    expect(response.statusCode).toBe(200);
  });

  test('a batch over MAX_BATCH_EVENTS is 400 invalid_request and stores nothing', async () => {
    const { app, stored } = useSource({ env: { MAX_BATCH_EVENTS: '3' } });
    const response = await publishBatch(app, { events: [1, 2, 3, 4].map((n) => ({ channel: 'a', data: n })) });
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
    expect(await stored('a')).toEqual([]);
  });

  test('a batch of exactly MAX_BATCH_EVENTS is stored', async () => {
    const { app, stored } = useSource({ env: { MAX_BATCH_EVENTS: '3' } });
    const response = await publishBatch(app, { events: [1, 2, 3].map((n) => ({ channel: 'a', data: n })) });
    expect(response.statusCode).toBe(200);
    expect(await stored('a')).toHaveLength(3);
  });

  test.each([
    ['an empty events list', { events: [] }],
    ['no events field', { items: [{ channel: 'a', data: 1 }] }],
    ['events that is not a list', { events: { channel: 'a', data: 1 } }],
    ['a body that is a list', [{ channel: 'a', data: 1 }]],
    ['a body that is null', null],
  ])('%s is 400 invalid_request', async (_name, body) => {
    const { app } = useSource();
    const response = await publishBatch(app, JSON.stringify(body));
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
    expect((response.json() as { error: { index?: number } }).error.index).toBeUndefined();
  });

  test('a body that is not JSON is 400 invalid_json', async () => {
    const { app } = useSource();
    const response = await publishBatch(app, '{"events":[');
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_json');
  });

  test('a body that is not application/json is 415 unsupported_media_type', async () => {
    const { app } = useSource();
    const response = await publishBatch(app, { events: [{ channel: 'a', data: 1 }] }, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.statusCode).toBe(415);
    expect(errorCode(response)).toBe('unsupported_media_type');
  });

  test('a batch without a publisher key is 401 unauthorized and stores nothing', async () => {
    const { app, stored } = useSource();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ events: [{ channel: 'a', data: 1 }] }),
    });
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('unauthorized');
    expect(await stored('a')).toEqual([]);
  });

  test('a batch body larger than the batch body limit is 413 payload_too_large', async () => {
    const { app } = useSource({ env: { MAX_EVENT_BYTES: '1024', MAX_BATCH_EVENTS: '2' } });
    // Limit: 2 x (1024 + 512) bytes; whitespace counts toward the body, not toward an event's data.
    const response = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: `{"events":[{"channel":"a","data":1}]${' '.repeat(4000)}}`,
    });
    expect(response.statusCode).toBe(413);
    expect(errorCode(response)).toBe('payload_too_large');
  });
});
