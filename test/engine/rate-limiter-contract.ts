import { describe, expect, test } from 'vitest';
import type { RateLimiter } from '../../services/engine/rate-limiter.js';

/**
 * The behaviour every RateLimiter has (rate-limiter.ts), run against the
 * memory and the Redis implementation alike. `make` builds a fresh limiter
 * with the given limit and window; keys are unique per test.
 */
export function rateLimiterContract(name: string, make: (limit: number, windowMs: number) => Promise<RateLimiter>): void {
  let n = 0;
  const key = () => `${name}-key-${++n}`;

  describe(`${name} rate limiter contract`, () => {
    test('admits charges up to the limit, then refuses with a Retry-After within the window', async () => {
      const limiter = await make(5, 30_000);
      const k = key();
      for (let i = 0; i < 5; i++) expect(await limiter.take(k, 1)).toEqual({ allowed: true });
      const refused = await limiter.take(k, 1);
      expect(refused.allowed).toBe(false);
      if (!refused.allowed) {
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(30);
      }
    });

    test('a charge counts its whole cost, and a refused charge counts nothing', async () => {
      const limiter = await make(10, 30_000);
      const k = key();
      expect((await limiter.take(k, 7)).allowed).toBe(true);
      expect((await limiter.take(k, 4)).allowed).toBe(false);
      expect((await limiter.take(k, 4)).allowed).toBe(false);
      expect((await limiter.take(k, 3)).allowed).toBe(true);
      expect((await limiter.take(k, 1)).allowed).toBe(false);
    });

    test('a charge above the whole limit is admitted into an empty window only, and fills it', async () => {
      const limiter = await make(3, 30_000);
      const k = key();
      expect((await limiter.take(k, 10)).allowed).toBe(true);
      expect((await limiter.take(k, 1)).allowed).toBe(false);
      const other = key();
      expect((await limiter.take(other, 1)).allowed).toBe(true);
      expect((await limiter.take(other, 10)).allowed).toBe(false);
    });

    test('keys are counted apart', async () => {
      const limiter = await make(1, 30_000);
      const a = key();
      const b = key();
      expect((await limiter.take(a, 1)).allowed).toBe(true);
      expect((await limiter.take(a, 1)).allowed).toBe(false);
      expect((await limiter.take(b, 1)).allowed).toBe(true);
    });

    test('a refused key is admitted again once its window has passed', async () => {
      const limiter = await make(1, 200);
      const k = key();
      expect((await limiter.take(k, 1)).allowed).toBe(true);
      expect((await limiter.take(k, 1)).allowed).toBe(false);
      // Polls rather than sleeping an exact time: the assertion is "eventually", not "after 200 ms".
      const deadline = Date.now() + 10_000;
      let admitted = false;
      while (!admitted && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        admitted = (await limiter.take(k, 1)).allowed;
      }
      expect(admitted).toBe(true);
    });
  });
}
