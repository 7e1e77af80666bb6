import { describe, expect, test } from 'vitest';
import { PUBLISHER_KEY, errorCode, publish, publishBatch, useSource } from '../support/source-app.js';

const OTHER_KEY = 'another-publisher-key-0123456789';
const OTHER = { authorization: `Bearer ${OTHER_KEY}` };
const TWO_KEYS = { env: { PUBLISHER_KEYS: `${PUBLISHER_KEY},${OTHER_KEY}` } };

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

describe('Idempotency-Key scope (v1.1: per publisher key and channel)', () => {
  test('the same key sent with another publisher key stores a new event, and each publisher key replays its own', async () => {
    const { app, stored } = useSource(TWO_KEYS);
    const mine = await publish(app, 'orders', '"mine"', { 'idempotency-key': 'order-42' });
    const theirs = await publish(app, 'orders', '"theirs"', { ...OTHER, 'idempotency-key': 'order-42' });
    const myRetry = await publish(app, 'orders', '"mine again"', { 'idempotency-key': 'order-42' });
    const theirRetry = await publish(app, 'orders', '"theirs again"', { ...OTHER, 'idempotency-key': 'order-42' });

    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json()).not.toEqual(mine.json());
    expect(myRetry.json()).toEqual(mine.json());
    expect(theirRetry.json()).toEqual(theirs.json());
    expect([myRetry, theirRetry].map((r) => r.headers['idempotent-replayed'])).toEqual(['true', 'true']);
    expect((await stored('orders')).map((e) => e.data)).toEqual(['mine', 'theirs']);
  });

  test('in a batch too: another publisher key with the same key stores its own event', async () => {
    const { app, stored } = useSource(TWO_KEYS);
    const batch = { events: [{ channel: 'orders', data: 1, idempotencyKey: 'k' }] };
    const mine = (await publishBatch(app, batch)).json() as { results: { id: string; replayed?: true }[] };
    const theirs = (await publishBatch(app, batch, OTHER)).json() as { results: { id: string; replayed?: true }[] };
    expect(theirs.results[0]!.replayed).toBeUndefined();
    expect(theirs.results[0]!.id).not.toBe(mine.results[0]!.id);
    expect(await stored('orders')).toHaveLength(2);
  });

  test('one publisher key shares its keys between the single-event and the batch endpoint', async () => {
    const { app } = useSource(TWO_KEYS);
    const single = (await publish(app, 'a', '1', { ...OTHER, 'idempotency-key': 'shared' })).json() as { id: string };
    const batch = await publishBatch(app, { events: [{ channel: 'a', data: 1, idempotencyKey: 'shared' }] }, OTHER);
    expect(batch.json()).toEqual({ results: [{ channel: 'a', id: single.id, replayed: true }] });
  });

  test('with AUTH_DISABLED=true every request shares one scope: keys are per channel, whatever key is sent', async () => {
    const { app, stored } = useSource({ env: { AUTH_DISABLED: 'true' } });
    const first = await publish(app, 'a', '1', { authorization: 'Bearer anything', 'idempotency-key': 'k' });
    const retry = await app.inject({ method: 'POST', url: '/v1/channels/a/events', headers: { 'content-type': 'application/json', 'idempotency-key': 'k' }, payload: '2' });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await stored('a')).toHaveLength(1);
  });
});
