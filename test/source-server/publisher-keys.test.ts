import * as crypto from 'node:crypto';
import { afterEach, describe, expect, test, vi } from 'vitest';

/*
 * Constant time is tested by behaviour, not by the clock: every configured
 * key is compared on every attempt, always as two equal-length digests, so
 * neither a match's position nor a guess's length changes the work done.
 */
const compared: { a: number; b: number }[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push({ a: a.byteLength, b: b.byteLength });
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { PublisherKeys } = await import('../../services/source-server/plugins/publisher-keys.js');

const KEYS = ['first-publisher-key-000000', 'second-key-of-another-length-1111111111', 'third-key-2222222222222222'];

afterEach(() => {
  compared.length = 0;
});

describe('publisher key comparison', () => {
  test.each([
    ['the first key', KEYS[0]!, true],
    ['the last key', KEYS[2]!, true],
    ['a wrong key of the same length', KEYS[0]!.replace('f', 'g'), false],
    ['a one-character guess', 'x', false],
    ['a 10,000-character guess', 'x'.repeat(10_000), false],
    ['an empty string', '', false],
    ['a prefix of a key', KEYS[1]!.slice(0, 10), false],
  ])('%s is compared with every configured key, as equal-length digests', (_name, candidate, ok) => {
    const keys = new PublisherKeys(KEYS);
    expect(keys.verify(candidate)).toBe(ok);
    expect(compared).toHaveLength(KEYS.length);
    for (const { a, b } of compared) {
      expect(a).toBe(32);
      expect(b).toBe(32);
    }
  });
});
