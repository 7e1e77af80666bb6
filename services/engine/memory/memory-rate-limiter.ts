import { retryAfterSeconds, type RateDecision, type RateLimitOptions, type RateLimiter } from '../rate-limiter.js';

/** Above this many keys, expired windows are swept before a new key is added, so memory stays bounded by live keys. */
const SWEEP_ABOVE_KEYS = 10_000;

interface Window {
  count: number;
  endsAt: number;
}

/** The RateLimiter of one process (embedded mode, no Redis). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  /** `now`: a clock in ms, injected for tests. Default Date.now. */
  constructor(
    private readonly options: RateLimitOptions,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  async take(key: string, cost: number): Promise<RateDecision> {
    const now = this.now();
    let window = this.windows.get(key);
    if (window && window.endsAt <= now) {
      this.windows.delete(key);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= SWEEP_ABOVE_KEYS) this.sweep(now);
      // An empty window admits any single charge, even one above the limit (see RateLimiter).
      this.windows.set(key, { count: cost, endsAt: now + this.options.windowMs });
      return { allowed: true };
    }
    if (window.count + cost > this.options.limit) {
      return { allowed: false, retryAfterSeconds: retryAfterSeconds(window.endsAt - now) };
    }
    window.count += cost;
    return { allowed: true };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
