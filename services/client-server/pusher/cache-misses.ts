import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.js';

/**
 * A channel's `cache_miss` webhook is reported at most once per this long by
 * one client-server: Pusher deduplicates "when multiple clients are
 * subscribed to an empty channel" (cache-channels.md), and a room of a
 * thousand reconnecting clients must not be a thousand webhooks.
 */
export const CACHE_MISS_WEBHOOK_INTERVAL_MS = 10_000;

/** The deduplicated reporter of cache misses (the engine appends them to the channel's outbox). */
export function cacheMissReporter(engine: Pick<Engine, 'noteCacheMiss'>, logger: Logger, now: () => number): (native: string) => void {
  const last = new Map<string, number>();
  return (native) => {
    const at = now();
    for (const [channel, time] of last) if (at - time >= CACHE_MISS_WEBHOOK_INTERVAL_MS) last.delete(channel);
    if (last.has(native)) return;
    last.set(native, at);
    engine.noteCacheMiss(native).catch((err: unknown) => logger.warn({ err, channel: native }, 'cache_miss not recorded for webhooks'));
  };
}
