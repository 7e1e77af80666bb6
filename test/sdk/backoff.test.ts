import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../../sdk/src/index.js';

describe('backoffDelay', () => {
  test('the window doubles with each attempt, starting at the base', () => {
    const top = (attempt: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 100_000, random: () => 0.999999 });
    expect([0, 1, 2, 3].map(top)).toEqual([99, 199, 399, 799]);
  });

  test('the window never exceeds the cap, however many attempts failed', () => {
    expect(backoffDelay(50, { baseMs: 100, maxMs: 5000, random: () => 0.999999 })).toBe(4999);
    expect(backoffDelay(5000, { baseMs: 100, maxMs: 5000, random: () => 0.5 })).toBe(2500);
  });

  test('full jitter: the delay can be anything from zero to the window', () => {
    expect(backoffDelay(3, { baseMs: 100, random: () => 0 })).toBe(0);
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(4, { baseMs: 100 })));
    expect(delays.size).toBeGreaterThan(50);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1600);
    }
  });
});
