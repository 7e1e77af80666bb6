import { describe, expect, test } from 'vitest';
import { CHANNEL_PATTERN, assertChannel, isValidChannel } from '../../services/common/channel.js';
import { RelayError } from '../../services/common/errors.js';
import { compareEventIds, isEventId } from '../../services/common/event-id.js';
import { compactJson, eventFrame, idFromFrame, parseClientMessage, tsFromFrame } from '../../services/common/protocol.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof RelayError ? err.code : 'not a RelayError';
  }
  return undefined;
}

describe('channel names', () => {
  test.each(['news', 'orders:eu', 'a.b-c_d:1', 'x'.repeat(128), 'A9'])('%s is valid', (name) => {
    expect(isValidChannel(name)).toBe(true);
  });
  test.each(['', 'x'.repeat(129), 'has space', 'slash/y', 'brace{x}', 'ünïcode', '*', 'a\nb'])('%j is invalid_channel', (name) => {
    expect(isValidChannel(name)).toBe(false);
    expect(codeOf(() => assertChannel(name))).toBe('invalid_channel');
  });
  test('the pattern is the one PROTOCOL.md states', () => {
    expect(CHANNEL_PATTERN.source).toBe('^[A-Za-z0-9_\\-.:]{1,128}$');
  });
});

describe('event ids', () => {
  test('have the Redis stream shape and compare numerically, not as strings', () => {
    expect(isEventId('1732450000000-0')).toBe(true);
    expect(isEventId('1732450000000')).toBe(false);
    expect(isEventId('a-1')).toBe(false);
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareEventIds('10-2', '10-2')).toBe(0);
  });
});

describe('the event frame', () => {
  test('is the WebSocket event message, and id and ts can be read back without parsing', () => {
    const frame = eventFrame('orders:eu', '1732450000000-7', '{"a":"q\\"uote"}', 1732450000123);
    expect(JSON.parse(frame)).toEqual({ type: 'event', channel: 'orders:eu', id: '1732450000000-7', data: { a: 'q"uote' }, ts: 1732450000123 });
    expect(idFromFrame(Buffer.from(frame), 'orders:eu')).toBe('1732450000000-7');
    expect(tsFromFrame(Buffer.from(frame))).toBe(1732450000123);
    expect(tsFromFrame(Buffer.from('{"x":1'))).toBeUndefined();
  });

  test('multi-line JSON is made single-line so that it fits an SSE data field', () => {
    expect(compactJson('{\n  "a": 1\n}')).toBe('{"a":1}');
    expect(compactJson('{"a": 1}')).toBe('{"a": 1}');
  });
});

describe('client messages', () => {
  test('subscribe, subscribe with since, unsubscribe and ping parse', () => {
    expect(parseClientMessage('{"type":"subscribe","channel":"news"}')).toEqual({ type: 'subscribe', channel: 'news' });
    expect(parseClientMessage('{"type":"subscribe","channel":"news","since":"1-0"}')).toEqual({ type: 'subscribe', channel: 'news', since: '1-0' });
    expect(parseClientMessage('{"type":"unsubscribe","channel":"news"}')).toEqual({ type: 'unsubscribe', channel: 'news' });
    expect(parseClientMessage('{"type":"ping"}')).toEqual({ type: 'ping' });
  });

  test.each([
    ['not JSON', 'nope', 'invalid_json'],
    ['a JSON string', '"subscribe"', 'invalid_json'],
    ['null', 'null', 'invalid_json'],
    ['an array', '[]', 'invalid_json'],
    ['no type', '{"channel":"news"}', 'invalid_request'],
    ['an unknown type', '{"type":"publish"}', 'invalid_request'],
    ['a channel that is not a string', '{"type":"subscribe","channel":5}', 'invalid_request'],
    ['a since of the wrong shape', '{"type":"subscribe","channel":"news","since":5}', 'invalid_request'],
    ['a bad channel name', '{"type":"unsubscribe","channel":"a b"}', 'invalid_channel'],
    ['a bad since and a bad channel: shape first', '{"type":"subscribe","channel":"a b","since":"x"}', 'invalid_request'],
  ])('%s is %s', (_name, text, code) => {
    expect(codeOf(() => parseClientMessage(text))).toBe(code);
  });

  test('an error about a channel carries the channel', () => {
    try {
      parseClientMessage('{"type":"subscribe","channel":"a b"}');
    } catch (err) {
      expect((err as RelayError).channel).toBe('a b');
    }
    expect.assertions(1);
  });
});
