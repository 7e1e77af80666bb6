import type { RedisOptions } from 'ioredis';
import type { Config } from '../../runtime/config/schema.js';

/** A command Redis has not answered within this time fails, so a frozen Redis (SIGSTOP, network black hole) answers 503 instead of hanging requests. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** First reconnect delay; doubles each attempt. */
const RETRY_BASE_MS = 50;
/** Reconnect attempts are capped at this delay so recovery after an outage is quick but Redis is not hammered. */
const RETRY_MAX_MS = 2000;
/**
 * Behind Sentinel (and per Cluster master) the next primary is usually up
 * within a few seconds of the old one dying: a lower cap keeps the backoff
 * from adding seconds of 503s after the promotion.
 */
export const FAILOVER_RETRY_MAX_MS = 500;

/**
 * ioredis options for every connection the engine opens, in every mode
 * (connections.ts adds addresses, credentials and TLS). The subscriber of a
 * single-node mode is `redis.duplicate()`, which copies every option below.
 */
export function redisClientOptions(config: Pick<Config, 'redisWaitTimeoutMs'>, retryMaxMs = RETRY_MAX_MS): RedisOptions {
  return {
    // ioredis 6 speaks RESP3 by default; RESP2 keeps pub/sub connections in
    // subscriber mode and every reply in the shapes this code reads.
    protocol: 2,
    // A publish while Redis is down must fail at once (503, the producer retries)
    // rather than wait in a queue that a client has long given up on.
    enableOfflineQueue: false,
    // WAIT blocks on the server for up to REDIS_WAIT_TIMEOUT_MS; the client
    // timeout must outlast it or every slow replica would look like a dead Redis.
    commandTimeout: Math.max(DEFAULT_COMMAND_TIMEOUT_MS, config.redisWaitTimeoutMs + 1000),
    // Never give up: a relay that stops reconnecting needs a human. Capped
    // exponential backoff; returning a number (never null) means "retry".
    retryStrategy: (attempt: number) => Math.min(RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 16), retryMaxMs),
    // A command in flight when the connection drops is failed on the first
    // reconnect attempt instead of being retried: its outcome is unknown, and
    // re-sending a publish could store the event twice. The caller answers 503
    // and the producer retries, with its Idempotency-Key when it cares.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The subscriber's topics are re-subscribed by ioredis and again, with
    // confirmation, by RedisBus before it backfills (subscriber.ts).
    autoResubscribe: true,
  };
}
