import { TokenBucket } from './token-bucket.js';

/** What a WebSocket connection needs to know to police its client's messages. */
export interface InboundLimitConfig {
  /** MAX_CLIENT_MESSAGES_PER_SECOND; 0 turns the limit off. */
  maxClientMessagesPerSecond: number;
  /** CLIENT_MESSAGES_BURST. */
  clientMessagesBurst: number;
}

/**
 * The per-connection check on inbound WebSocket frames (subscribe floods):
 * a bucket whose `take()` answers whether one more message is allowed, or
 * null when the limit is off. The connection makes it on its first message,
 * so an idle connection holds none.
 */
export function inboundTokenBucket(config: InboundLimitConfig, now?: () => number): TokenBucket | null {
  if (config.maxClientMessagesPerSecond <= 0) return null;
  return new TokenBucket({ ratePerSecond: config.maxClientMessagesPerSecond, capacity: config.clientMessagesBurst, now });
}
