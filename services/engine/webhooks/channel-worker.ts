import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EngineMetrics } from '../engine-metrics.js';
import { attemptWebhook, type AttemptResult } from './delivery.js';
import type { OutboxBatch, OutboxStore } from './outbox-store.js';
import type { Receiver } from './receiver.js';
import { retryDelayMs, type WebhookTiming } from './timing.js';

/**
 * Transitions per webhook: large enough that a burst (a room filling up) is
 * a few POSTs, small enough that a receiver handles one body quickly.
 */
export const MAX_BATCH_EVENTS = 100;
/** A batch stops growing past this many bytes of transitions (client publishes carry up to MAX_EVENT_BYTES each); one transition always fits. */
export const MAX_BATCH_BYTES = 1024 * 1024;

export type { Receiver } from './receiver.js';

export interface WorkerContext {
  owner: string;
  store: OutboxStore;
  /** The channel's receivers (routes.ts): WEBHOOK_URLS, plus its Pusher app's URLs. */
  receivers: readonly Receiver[];
  giveUpMs: number;
  timing: WebhookTiming;
  logger: Logger;
  metrics?: EngineMetrics;
  now: () => number;
  /** Aborted when the dispatcher closes: attempts in flight are cut and the channel is handed over. */
  signal: AbortSignal;
}

/**
 * Delivers one channel's outbox while its dispatcher holds the channel's
 * lease (taken by the caller): every receiver at once, each its own stream
 * (a receiver that fails or hangs holds up no other), each with at most one
 * batch in flight, so each receiver sees the channel's transitions in order.
 * Ends when no receiver has anything due, leaving the channel off the work
 * list or parked until its next retry, and gives the lease up.
 */
export class ChannelWorker {
  private lost = false;
  private renewal?: NodeJS.Timeout;
  private readonly keys: string[];

  constructor(
    private readonly ctx: WorkerContext,
    private readonly channel: string,
  ) {
    this.keys = ctx.receivers.map((r) => r.key);
  }

  async run(): Promise<void> {
    const { store, owner, timing, now, signal } = this.ctx;
    try {
      for (;;) {
        await this.hold();
        // Every receiver's stream ends before anything else happens, even when one failed: none may outlive the lease.
        const settled = await Promise.allSettled(this.ctx.receivers.map((r) => this.drain(r)));
        const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failure) throw failure.reason;
        const waits = (settled as PromiseFulfilledResult<number | undefined>[]).map((s) => s.value);
        this.stopRenewal();
        if (this.lost) return;
        if (signal.aborted) {
          // Closing: due again at once, for the replicas that go on.
          await store.park(this.channel, now());
          return;
        }
        const due = waits.filter((w): w is number => w !== undefined);
        if (due.length === 0) await store.unmark(this.channel);
        else await store.park(this.channel, Math.min(...due));
        // A writer may have appended after the last read and marked before the line above (outbox-mark.ts): look again.
        if (!(await store.hasWork(this.channel, this.keys, now()))) return;
        if ((await store.acquire(this.channel, owner, timing.leaseMs)) !== 0) return;
      }
    } catch (err) {
      // The store is unreachable: the channel stays on the work list (held until the lease ends) and is taken up again.
      this.ctx.logger.warn({ err, channel: this.channel }, 'webhook delivery of a channel interrupted');
    } finally {
      this.stopRenewal();
      if (!this.lost) await store.release(this.channel, owner).catch(() => {});
    }
  }

  /** Keeps other dispatchers off the channel while this one works on it, and the lease alive. */
  private async hold(): Promise<void> {
    const { store, owner, timing, now } = this.ctx;
    await store.park(this.channel, now() + timing.leaseMs);
    this.renewal = setInterval(() => {
      store
        .acquire(this.channel, owner, timing.leaseMs)
        .then(async (left) => {
          if (left > 0) this.lost = true;
          else await store.park(this.channel, now() + timing.leaseMs);
        })
        .catch(() => {
          // Redis unreachable: the next renewal tries again; the fenced writes catch a lease that ran out.
        });
    }, timing.leaseMs / 3).unref();
  }

  private stopRenewal(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  /** Sends the receiver's batches until it has everything (undefined) or waits for a retry (its due time). */
  private async drain(receiver: Receiver): Promise<number | undefined> {
    const { store, owner, now, signal } = this.ctx;
    for (;;) {
      if (this.lost || signal.aborted) return undefined;
      const batch = await store.next(this.channel, owner, receiver.key, randomUUID(), now(), { maxEvents: MAX_BATCH_EVENTS, maxBytes: MAX_BATCH_BYTES });
      if (batch === 'lost') return this.loseLease();
      if (batch === 'idle') return undefined;
      if (batch.due > now()) return batch.due;
      const request = receiver.request(batch, now());
      if (!request) {
        // Nothing in it for this receiver (a Pusher URL filtering kinds, a transition Pusher does not report).
        if ((await store.settle(this.channel, owner, receiver.key, batch.id, this.keys)) === 'lost') return this.loseLease();
        continue;
      }
      const result = await attemptWebhook({ url: receiver.url, ...request, timeoutMs: this.ctx.timing.requestTimeoutMs, signal });
      if (result.ok) {
        this.ctx.metrics?.webhookDeliveries.inc({ receiver: receiver.label });
        if ((await store.settle(this.channel, owner, receiver.key, batch.id, this.keys)) === 'lost') return this.loseLease();
        continue;
      }
      if (result.aborted) return undefined;
      const retryAt = await this.failed(receiver, batch, result);
      if (retryAt !== undefined) return retryAt;
    }
  }

  /** Reschedules a failed batch (resolves its due time) or, past the give-up point, drops it for this receiver. */
  private async failed(receiver: Receiver, batch: OutboxBatch, result: Exclude<AttemptResult, { ok: true }>): Promise<number | undefined> {
    const { store, owner, now, logger, metrics } = this.ctx;
    const attempts = batch.attempts + 1;
    const deadline = batch.time + this.ctx.giveUpMs;
    const at = now();
    const fields = { channel: this.channel, receiver: receiver.label, webhook: batch.id, attempts, status: result.status, error: result.error };
    if (at >= deadline) {
      metrics?.webhookFailures.inc({ receiver: receiver.label });
      logger.error({ ...fields, events: batch.events.length }, 'webhook given up after WEBHOOK_GIVE_UP_SECONDS of failed attempts; the receiver misses its transitions');
      if ((await store.settle(this.channel, owner, receiver.key, batch.id, this.keys)) === 'lost') return this.loseLease();
      return undefined;
    }
    metrics?.webhookRetries.inc({ receiver: receiver.label });
    // The last retry is at the give-up point, so that retries last exactly WEBHOOK_GIVE_UP_SECONDS.
    const due = Math.min(at + retryDelayMs(attempts, this.ctx.timing), deadline);
    logger.warn({ ...fields, retryInMs: due - at }, 'webhook attempt failed; it will be retried');
    if ((await store.reschedule(this.channel, owner, receiver.key, batch.id, attempts, due)) === 'lost') return this.loseLease();
    return due;
  }

  private loseLease(): undefined {
    this.lost = true;
    this.ctx.logger.info({ channel: this.channel }, 'webhook lease of a channel taken over by another dispatcher');
    return undefined;
  }
}
