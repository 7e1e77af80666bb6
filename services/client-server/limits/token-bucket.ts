/**
 * A token bucket for one connection's inbound messages: `capacity` messages
 * may arrive at once (a client subscribing to its channels right after
 * connecting), then `ratePerSecond` on average. Purely local and
 * synchronous: one bucket per connection, checked on every frame.
 */
export interface TokenBucketOptions {
  /** Tokens added per second; the sustained rate. */
  ratePerSecond: number;
  /** Most tokens the bucket holds; the largest burst. Starts full. */
  capacity: number;
  /** Monotonic clock in ms; injected for tests. Default performance.now. */
  now?: () => number;
}

/** The default clock, one function for every bucket (a connection's memory is what 20,000 of them cost). */
const monotonicNow = (): number => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly ratePerSecond: number;
  private readonly capacity: number;

  constructor(options: TokenBucketOptions) {
    this.now = options.now ?? monotonicNow;
    this.ratePerSecond = options.ratePerSecond;
    this.capacity = options.capacity;
    this.tokens = options.capacity;
    this.last = this.now();
  }

  /** Takes one token; false when the bucket is empty (the caller refuses the message). */
  take(): boolean {
    const now = this.now();
    const elapsed = now - this.last;
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
