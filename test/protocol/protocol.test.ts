import { describe, expect, test } from 'vitest';
import { CHANNEL_PATTERN, assertChannel, isValidChannel } from '../../services/protocol/channel.js';
import { RelayError } from '../../services/protocol/errors.js';
import { STREAM_IDS, compareEventIds, isEventId } from '../../services/protocol/event-id.js';
import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { compactJson } from '../../services/protocol/raw-json.js';
import { parseClientMessage as parseWithIds } from '../../services/protocol/client-messages.js';

/** The server's own ids: both buses issue Redis stream ids. */
const parseClientMessage = (text: string) => parseWithIds(text, STREAM_IDS);

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
  test('is the WebSocket event message, built from the event parts', () => {
    const parts = { channel: 'orders:eu', id: '1732450000000-7', data: Buffer.from('{"a":"q\\"uote"}'), ts: 1732450000123 };
    const message = encodeEventMessage(parts).toString();
    expect(JSON.parse(message)).toEqual({ type: 'event', channel: 'orders:eu', id: '1732450000000-7', data: { a: 'q"uote' }, ts: 1732450000123 });
    expect(message).toBe('{"type":"event","channel":"orders:eu","id":"1732450000000-7","data":{"a":"q\\"uote"},"ts":1732450000123}');
    const byClient = JSON.parse(encodeEventMessage({ ...parts, publisher: 'user "7" ✓' }).toString()) as { publisher: string };
    expect(byClient.publisher).toBe('user "7" ✓');
    // Room for a transport's header in front, in the same allocation.
    expect(encodeEventMessage(parts, 4).subarray(4).toString()).toBe(message);
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
