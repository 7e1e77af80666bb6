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
 * returns a function answering whether one more message is allowed. Kept out
 * of ws-connection.ts so that the send path there stays untouched by it.
 */
export function inboundMessageLimit(config: InboundLimitConfig, now?: () => number): () => boolean {
  if (config.maxClientMessagesPerSecond <= 0) return () => true;
  const bucket = new TokenBucket({ ratePerSecond: config.maxClientMessagesPerSecond, capacity: config.clientMessagesBurst, now });
  return () => bucket.take();
}
