import { describe, expect, test } from 'vitest';
import { StreamCursor } from '../../services/client-server/transports/sse/stream-cursor.js';

/** The multi-channel SSE cursor: every channel's position, packed, and read back exactly. */

const NOW = 1_732_450_000_000;
const channels = (n: number) => Array.from({ length: n }, (_, i) => `room:${i}`);

describe('the stream cursor', () => {
  test('decodes to exactly the positions it was built from and advanced to, for the same channel set in any order', () => {
    const from = new Map<string, string | undefined>([
      ['b', `${NOW - 86_400_000}-0`],
      ['a', undefined],
      ['c', `${NOW}-7`],
    ]);
    const cursor = new StreamCursor(['b', 'a', 'c'], from);
    cursor.advance('a', `${NOW + 5}-0`);
    cursor.advance('b', `${NOW - 1000}-3`);
    // Positions only move forward.
    cursor.advance('c', `${NOW}-2`);
    expect(StreamCursor.decode(cursor.encode(), ['c', 'a', 'b'])).toEqual(
      new Map([
        ['a', `${NOW + 5}-0`],
        ['b', `${NOW - 1000}-3`],
        ['c', `${NOW}-7`],
      ]),
    );
  });

  test('a channel with no position yet decodes as 0-0: everything held is after it', () => {
    const text = new StreamCursor(['a'], new Map([['a', undefined]])).encode();
    expect(StreamCursor.decode(text, ['a'])).toEqual(new Map([['a', '0-0']]));
  });

  test.each([
    ['another channel set', (t: string) => t, ['a', 'x']],
    ['a missing entry', (t: string) => t.slice(0, t.lastIndexOf('.')), ['a', 'b']],
    ['a character outside the alphabet', (t: string) => `${t}!`, ['a', 'b']],
    ['another version', (t: string) => `2${t.slice(1)}`, ['a', 'b']],
    ['a delta larger than the base', (t: string) => t.replace(/\.[^.]*$/, '.zzzzzzzzzzzz'), ['a', 'b']],
    ['an event id', () => `${NOW}-0`, ['a', 'b']],
    ['garbage', () => 'hello', ['a', 'b']],
  ])('%s is not a cursor of the stream', (_name, mangle, set) => {
    const text = new StreamCursor(['a', 'b'], new Map([['a', `${NOW}-0`], ['b', `${NOW - 5}-1`]])).encode();
    expect(StreamCursor.decode(mangle(text), set)).toBeUndefined();
  });

  test('is compact: its size for 10 and 100 channels', () => {
    const size = (n: number, ageMs: (i: number) => number) => {
      const list = channels(n);
      const cursor = new StreamCursor(list, new Map(list.map((c, i) => [c, `${NOW - ageMs(i)}-0`])));
      return cursor.encode().length;
    };
    const sizes = {
      'every channel active in the last minute': [size(10, (i) => i * 5_000), size(100, (i) => i * 600)],
      'channels idle for up to a day': [size(10, (i) => i * 8_640_000), size(100, (i) => i * 864_000)],
      'channels that held nothing yet': [
        new StreamCursor(channels(10), new Map()).encode().length,
        new StreamCursor(channels(100), new Map()).encode().length,
      ],
    };
    console.info(`stream cursor bytes (10 channels, 100 channels): ${JSON.stringify(sizes)}`);
    expect(sizes['every channel active in the last minute'][0]).toBeLessThan(60);
    expect(sizes['every channel active in the last minute'][1]).toBeLessThan(450);
    expect(sizes['channels idle for up to a day'][1]).toBeLessThan(650);
  });
});
