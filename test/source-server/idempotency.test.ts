import { describe, expect, test } from 'vitest';
import { errorCode, publish, publishBatch, useSource } from '../support/source-app.js';

describe('Idempotency-Key', () => {
  test('a retry with the same key answers the first id with Idempotent-Replayed: true and stores nothing new', async () => {
    const { app, stored } = useSource();
    const first = await publish(app, 'orders', '{"n":1}', { 'idempotency-key': 'order-42' });
    const retry = await publish(app, 'orders', '{"n":1}', { 'idempotency-key': 'order-42' });

    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await stored('orders')).toHaveLength(1);
  });

  test('the first request wins: a retry with a different body still gets the first id and the first data stays', async () => {
    const { app, stored } = useSource();
    const first = await publish(app, 'orders', '{"n":1}', { 'idempotency-key': 'k' });
    const retry = await publish(app, 'orders', '{"n":2}', { 'idempotency-key': 'k' });

    expect(retry.json()).toEqual(first.json());
    expect((await stored('orders')).map((e) => e.data)).toEqual([{ n: 1 }]);
  });

  test('keys are scoped to the channel: the same key on another channel stores a new event', async () => {
    const { app, stored } = useSource();
    await publish(app, 'a', '1', { 'idempotency-key': 'same' });
    const other = await publish(app, 'b', '2', { 'idempotency-key': 'same' });

    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(await stored('b')).toHaveLength(1);
  });

  test('keys are shared with the batch endpoint: a batch event with a key used by a single publish replays it', async () => {
    const { app } = useSource();
    const single = (await publish(app, 'a', '1', { 'idempotency-key': 'shared' })).json() as { id: string };
    const batch = await publishBatch(app, { events: [{ channel: 'a', data: 1, idempotencyKey: 'shared' }] });

    expect(batch.json()).toEqual({ results: [{ channel: 'a', id: single.id, replayed: true }] });
  });

  test('a key of 128 visible ASCII characters is accepted', async () => {
    const { app } = useSource();
    const response = await publish(app, 'a', '1', { 'idempotency-key': '!~'.repeat(64) });
    expect(response.statusCode).toBe(200);
  });

  test.each([
    ['empty', ''],
    ['with a space', 'two words'],
    ['129 characters long', 'k'.repeat(129)],
    ['with a tab', 'a\tb'],
  ])('a key that is %s is 400 invalid_request and stores nothing', async (_name, key) => {
    const { app, stored } = useSource();
    const response = await publish(app, 'a', '1', { 'idempotency-key': key });
    expect(response.statusCode).toBe(400);
    expect(errorCode(response)).toBe('invalid_request');
    expect(await stored('a')).toEqual([]);
  });

  test('a key with a non-ASCII character is 400 invalid_request', async () => {
    const { app } = useSource();
    // HTTP headers are latin1 on the wire; "é" is 0xE9, outside 0x21-0x7E.
    const response = await publish(app, 'a', '1', { 'idempotency-key': 'caf\u00e9' });
    expect(errorCode(response)).toBe('invalid_request');
  });
});
