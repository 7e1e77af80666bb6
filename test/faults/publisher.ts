import { randomUUID } from 'node:crypto';

/**
 * A producer at a steady rate that retries each event with its
 * Idempotency-Key until it gets a 200 (what PROTOCOL.md asks producers to
 * do), so that `acknowledged` is exactly what the relay promised to deliver.
 * It also records what the fault suite checks about the answers: every
 * status, and any 503 without `Retry-After` or without the `unavailable` code.
 */
export class SteadyPublisher {
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

  stop(): void {
    this.stopped = true;
  }

  /** Publishes at about `perSecond` until `stop()` or `maxMs` (a bound, never a wait). */
  async run(perSecond: number, maxMs: number): Promise<void> {
    const interval = 1000 / perSecond;
    const started = Date.now();
    const pad = 'x'.repeat(this.padding);
    for (let i = 0; !this.stopped && Date.now() - started < maxMs; i++) {
      await this.publish({ i, pad }, started + maxMs + 30_000);
      const wait = started + (i + 1) * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async publish(data: unknown, deadline: number): Promise<void> {
    const idempotencyKey = randomUUID();
    const body = JSON.stringify(data);
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.sourceUrl}/v1/channels/${this.channel}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}`, 'idempotency-key': idempotencyKey },
          body,
          signal: AbortSignal.timeout(5000),
        });
        this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
        const answer = (await res.json()) as { id?: string; error?: { code: string } };
        if (res.status === 200) {
          if (!this.acknowledged.includes(answer.id!)) this.acknowledged.push(answer.id!);
          return;
        }
        if (res.status === 503 && (answer.error?.code !== 'unavailable' || !res.headers.get('retry-after'))) {
          this.badUnavailable.push(JSON.stringify(answer));
        }
        if (res.status !== 503 && res.status !== 429) throw new Error(`publish answered ${res.status}: ${JSON.stringify(answer)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('publish answered')) throw err;
        // Connection refused or timed out: retry, like a producer would.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('an event was not acknowledged before the deadline');
  }
}
