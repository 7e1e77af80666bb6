import type { OutboxBatch } from './outbox-store.js';

/** A webhook's body: the transitions' JSON texts are spliced in as they are (serialized once, at the outbox). */
export function webhookBody(batch: Pick<OutboxBatch, 'id' | 'time' | 'events'>): string {
  return `{"id":${JSON.stringify(batch.id)},"time":${batch.time},"events":[${batch.events.join(',')}]}`;
}

export type AttemptResult = { ok: true; status: number } | { ok: false; status?: number; error?: string; aborted?: boolean };

export interface AttemptOptions {
  url: string;
  body: string;
  /** The receiver's headers (receiver.ts): content type and signature, native or Pusher's. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** Aborts the attempt (the dispatcher closing); such an attempt is not counted as failed. */
  signal: AbortSignal;
}

/**
 * One POST of a webhook. 2xx is success; any other status, a redirect
 * included (a POST is not followed: the receiver should be configured at
 * its final URL), or no full answer within `timeoutMs` is a failure.
 */
export async function attemptWebhook(options: AttemptOptions): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { ...options.headers, 'user-agent': 'eventrelay-webhooks' },
      body: options.body,
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, timeout]),
    });
    // Read the answer to its end, so that the connection is reused.
    await response.arrayBuffer();
    const { status } = response;
    return status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status };
  } catch (err) {
    if (options.signal.aborted) return { ok: false, aborted: true };
    if (timeout.aborted) return { ok: false, error: `no answer within ${options.timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}
