/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): the delay is uniform in [0, min(cap, base * 2^n)].
 * Full jitter spreads the reconnects of many clients dropped at once (a
 * server drain, a deploy) instead of having them return in synchronized waves.
 */
export interface BackoffOptions {
  /** First window, ms. Default 500. */
  baseMs?: number;
  /** Largest window, ms. Default 30000. */
  maxMs?: number;
  /** Source of randomness in [0, 1); injected for tests. Default Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 500;
/** Long enough not to hammer a server that is down, short enough that users do not notice a restart. */
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity long after it passed `max`; Math.min handles both.
  const window = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.floor(random() * window);
}
