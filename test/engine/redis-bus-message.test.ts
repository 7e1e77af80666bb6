import { describe, expect, test } from 'vitest';
import { decodeBusMessage, encodeBusMessage } from '../../services/engine/redis/bus-message.js';

describe('the Redis bus message', () => {
  test('carries the event behind a fixed header whose id and ts are read back without parsing the data', () => {
    const message = encodeBusMessage('1732450000000-7', 1732450000123, 'ü-user', '{"a":1}');
    expect(decodeBusMessage(message)).toEqual({ id: '1732450000000-7', ts: 1732450000123, publisher: 'ü-user', data: Buffer.from('{"a":1}') });
    expect(decodeBusMessage(encodeBusMessage('1-0', 5, '', 'null'))).toEqual({ id: '1-0', ts: 5, publisher: '', data: Buffer.from('null') });
    for (const bad of ['{"x":1', '1 1-0 5', '1 1-0 x 0\nnull', '2 1-0 5 0\nnull', '1 1-0 5 99\nnull']) {
      expect(decodeBusMessage(Buffer.from(bad)), bad).toBeUndefined();
    }
  });

  test('has the bytes its encoder gives', () => {
    // The Lua script builds the same bytes; test/engine/redis-bus.test.ts compares them on a real Redis.
    expect(encodeBusMessage('7-1', 9, 'ab', 'true').toString()).toBe('1 7-1 9 2\nabtrue');
  });
});
