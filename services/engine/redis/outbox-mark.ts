import type { RedisClient } from './connections.js';
import { OUTBOX_INDEX_KEY } from './keys.js';

/**
 * Puts `channel` on the webhook dispatchers' work list (keys.ts
 * OUTBOX_INDEX_KEY), with the current time as its score. Whoever may append
 * to a channel's outbox marks it before its script (so that dying after the
 * append loses nothing) and again after it (so that a dispatcher that
 * finished the channel in between looks again). The index is global, so this
 * is always its own command: a Cluster script may touch one slot only.
 */
export async function markOutbox(redis: RedisClient, channel: string, nowMs: number): Promise<void> {
  await redis.zadd(OUTBOX_INDEX_KEY, nowMs, channel);
}

/** markOutbox for several channels in one command (a publish batch's client publishes). */
export async function markOutboxes(redis: RedisClient, channels: readonly string[], nowMs: number): Promise<void> {
  if (channels.length > 0) await redis.zadd(OUTBOX_INDEX_KEY, ...channels.flatMap((c) => [nowMs, c]));
}
