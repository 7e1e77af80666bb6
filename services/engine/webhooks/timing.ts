/**
 * The clocks of webhook delivery. The defaults are the protocol's
 * (PROTOCOL.md v1.1, Webhooks) or chosen for it, each with why; tests of the
 * dispatcher itself pass shorter ones, the system tests run the defaults.
 */
export interface WebhookTiming {
  /** How often each dispatcher looks at the work list for due channels. */
  pollMs: number;
  /** A channel's lease; renewed every third of it while a dispatcher works on the channel. */
  leaseMs: number;
  /** The first retry after a failed attempt; each later one waits twice as long... */
  firstRetryMs: number;
  /** ...up to this. */
  maxRetryMs: number;
  /** An attempt not answered within this failed. */
  requestTimeoutMs: number;
  /** How often one replica looks for outboxes left off the work list. */
  repairMs: number;
  /** How often the queue-age gauge is measured. */
  queueAgeMs: number;
}

export const WEBHOOK_TIMING: WebhookTiming = {
  // Half of it is the mean added latency; ten cheap ZRANGEBYSCOREs a second per replica.
  pollMs: 100,
  // A dispatcher that died delays its channels by at most this; long against a renewal's round trip.
  leaseMs: 15_000,
  // The protocol: first retry within 10 s (jitter only shortens it), doubling up to 5 minutes.
  firstRetryMs: 5_000,
  maxRetryMs: 5 * 60_000,
  // The protocol: no answer within 10 s is a failure.
  requestTimeoutMs: 10_000,
  // A full SCAN is the only way to find an unmarked outbox; rare, because it needs a writer dying mid-step.
  repairMs: 5 * 60_000,
  queueAgeMs: 10_000,
};

/** Retries are spread by up to this fraction (earlier, never later), so receivers are not hit by every channel at once. */
const JITTER = 0.2;

/** The wait before the retry after `attempts` failed attempts (1, 2, ...). */
export function retryDelayMs(attempts: number, timing: Pick<WebhookTiming, 'firstRetryMs' | 'maxRetryMs'>, random: () => number = Math.random): number {
  const base = Math.min(timing.maxRetryMs, timing.firstRetryMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(base * (1 - JITTER * random()));
}
