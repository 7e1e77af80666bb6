import { createHash } from 'node:crypto';
import type { OutboxBatch } from './outbox-store.js';

/** The POST of one batch to one receiver. */
export interface WebhookRequest {
  body: string;
  headers: Record<string, string>;
}

/** One webhook URL as the dispatcher knows it, with the format its webhooks take (native, or Pusher's). */
export interface Receiver {
  url: string;
  /** Stable key of the URL in the outbox state (a digest: the URL may hold a secret). */
  key: string;
  /** The URL's origin: metrics label and log field. */
  label: string;
  /**
   * The request for `batch`, sent as is on every attempt (the signature's
   * time aside); undefined when none of its transitions is for this
   * receiver, which then passes it without a POST.
   */
  request(batch: Pick<OutboxBatch, 'id' | 'time' | 'events'>, nowMs: number): WebhookRequest | undefined;
}

/** Each URL with its state key and its label: the origin, made unique by position when two URLs share one. */
export function labelled(urls: readonly string[], keyPrefix = ''): { url: string; key: string; label: string }[] {
  const seen = new Map<string, number>();
  return urls.map((url) => {
    const origin = new URL(url).origin;
    const n = (seen.get(origin) ?? 0) + 1;
    seen.set(origin, n);
    return { url, key: createHash('sha256').update(keyPrefix + url).digest('hex').slice(0, 16), label: n === 1 ? origin : `${origin}#${n}` };
  });
}
