import type { RedisOptions } from 'ioredis';
import type { Config } from '../../runtime/config/schema.js';

/** A command Redis has not answered within this time fails, so a frozen Redis (SIGSTOP, network black hole) answers 503 instead of hanging requests. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** First reconnect delay; doubles each attempt. */
const RETRY_BASE_MS = 50;
/** Reconnect attempts are capped at this delay so recovery after an outage is quick but Redis is not hammered. */
const RETRY_MAX_MS = 2000;

/**
 * ioredis options for both bus connections. The engine (connections.ts)
 * creates the command connection with `new Redis(url, redisClientOptions(config))`
 * and the subscriber with `redis.duplicate()`, which copies every option below.
 */
export function redisClientOptions(config: Pick<Config, 'redisWaitTimeoutMs'>): RedisOptions {
  return {
    // A publish while Redis is down must fail at once (503, the producer retries)
    // rather than wait in a queue that a client has long given up on.
    enableOfflineQueue: false,
    // WAIT blocks on the server for up to REDIS_WAIT_TIMEOUT_MS; the client
    // timeout must outlast it or every slow replica would look like a dead Redis.
    commandTimeout: Math.max(DEFAULT_COMMAND_TIMEOUT_MS, config.redisWaitTimeoutMs + 1000),
    // Never give up: a relay that stops reconnecting needs a human. Capped
    // exponential backoff; returning a number (never null) means "retry".
    retryStrategy: (attempt: number) => Math.min(RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 16), RETRY_MAX_MS),
    // A command in flight when the connection drops is failed on the first
    // reconnect attempt instead of being retried: its outcome is unknown, and
    // re-sending a publish could store the event twice. The caller answers 503
    // and the producer retries, with its Idempotency-Key when it cares.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The subscriber's topics are re-subscribed by ioredis and again, with
    // confirmation, by RedisBus before it backfills (redis-subscriber.ts).
    autoResubscribe: true,
  };
}
