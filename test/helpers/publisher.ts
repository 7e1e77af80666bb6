import { randomUUID } from 'node:crypto';

/**
 * A producer that retries until it gets a 200, with one Idempotency-Key per
 * event, the way PROTOCOL.md asks producers to: so "acknowledged" is exactly
 * the set of events the relay promised to deliver.
 */
export class RetryingPublisher {
  readonly acknowledged: string[] = [];
  readonly statuses = new Map<number, number>();

  constructor(
    private readonly sourceUrl: string,
    private readonly key: string,
    readonly channel: string,
  ) {}

  async publish(data: unknown, deadlineMs = 30_000): Promise<string> {
    const idempotencyKey = randomUUID();
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        const res = await fetch(`${this.sourceUrl}/v1/channels/${this.channel}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}`, 'idempotency-key': idempotencyKey },
          body: JSON.stringify(data),
          signal: AbortSignal.timeout(5000),
        });
        this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) {
          const { id } = (await res.json()) as { id: string };
          if (!this.acknowledged.includes(id)) this.acknowledged.push(id);
          return id;
        }
        await res.body?.cancel();
        if (res.status !== 503 && res.status !== 429) throw new Error(`publish answered ${res.status}`);
      } catch (err) {
        if ((err as Error).message.startsWith('publish answered')) throw err;
        // connection refused / timeout: retry like a producer would
      }
      if (Date.now() > deadline) throw new Error('publish did not succeed before the deadline');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Publishes `count` events at about `perSecond`. */
  async run(count: number, perSecond: number, onEach?: (i: number) => Promise<void> | void): Promise<void> {
    const interval = 1000 / perSecond;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      await onEach?.(i);
      await this.publish({ i });
      const wait = started + (i + 1) * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
