import { randomUUID } from 'node:crypto';

/** Between retries of one event, like a producer backing off a 503. */
const RETRY_DELAY_MS = 100;
/** One request that has not answered in this long is abandoned and retried. */
const REQUEST_TIMEOUT_MS = 5000;

/**
 * A producer that retries each event with its own Idempotency-Key until it
 * gets a 200 (what PROTOCOL.md asks producers to do), so that `acknowledged`
 * is exactly the set of events the relay promised to deliver. It also
 * records what the suites check about the answers: every status, and any 503
 * without `Retry-After` or without the `unavailable` code.
 */
export class RetryingPublisher {
  readonly acknowledged: string[] = [];
  readonly statuses = new Map<number, number>();
  readonly badUnavailable: string[] = [];
  private stopped = false;

  constructor(
    private readonly sourceUrl: string,
    private readonly key: string,
    readonly channel: string,
    /** Bytes of padding in each event's data (large events fill slow sockets sooner). */
    private readonly padding = 0,
  ) {}

  /** Publishes `data` until it is acknowledged; resolves its id. */
  async publish(data: unknown, deadlineMs = 30_000): Promise<string> {
    const idempotencyKey = randomUUID();
    const body = JSON.stringify(data);
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.sourceUrl}/v1/channels/${this.channel}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}`, 'idempotency-key': idempotencyKey },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
        const answer = (await res.json().catch(() => ({}))) as { id?: string; error?: { code: string } };
        if (res.status === 200) {
          if (!this.acknowledged.includes(answer.id!)) this.acknowledged.push(answer.id!);
          return answer.id!;
        }
        if (res.status === 503 && (answer.error?.code !== 'unavailable' || !res.headers.get('retry-after'))) {
          this.badUnavailable.push(JSON.stringify(answer));
        }
        if (res.status !== 503 && res.status !== 429) throw new Error(`publish answered ${res.status}: ${JSON.stringify(answer)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('publish answered')) throw err;
        // Connection refused or timed out: retry, like a producer would.
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
    }
    throw new Error('an event was not acknowledged before the deadline');
  }

  /** Publishes `count` events `{i}` at about `perSecond`, calling `onEach` before each. */
  async publishMany(count: number, perSecond: number, onEach?: (i: number) => Promise<void> | void): Promise<void> {
    const interval = 1000 / perSecond;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      await onEach?.(i);
      await this.publish({ i });
      const wait = started + (i + 1) * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Publishes `{i, pad}` at about `perSecond` until `stop()` or `maxMs` (a bound, never a wait). */
  async publishSteadily(perSecond: number, maxMs: number): Promise<void> {
    const interval = 1000 / perSecond;
    const started = Date.now();
    const pad = 'x'.repeat(this.padding);
    for (let i = 0; !this.stopped && Date.now() - started < maxMs; i++) {
      await this.publish({ i, pad }, started + maxMs + 30_000 - Date.now());
      const wait = started + (i + 1) * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
