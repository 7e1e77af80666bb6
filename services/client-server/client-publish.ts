import { createHash } from 'node:crypto';
import type { Bus, OutgoingEvent } from '../engine/bus.js';
import type { RateLimiter } from '../engine/rate-limiter.js';
import { publishedMessage, withRef, type PublishMessage } from '../protocol/client-messages.js';
import { RelayError, drainingError, isRelayError } from '../protocol/errors.js';
import type { Config } from '../runtime/config/schema.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import type { ClientMetrics } from './client-metrics.js';
import type { SubscriberClaims } from './auth/jwt.js';

export interface ClientPublishDeps {
  config: Pick<Config, 'maxEventBytes'>;
  bus: Pick<Bus, 'publish'>;
  /** PUBLISH_RATE_LIMIT, counted per token `sub` (undefined while the limit is off). */
  publishRateLimiter?: RateLimiter;
  lifecycle: Lifecycle;
  metrics: ClientMetrics;
  /** Wall clock for the event's `ts`. */
  now: () => number;
}

/**
 * PROTOCOL.md v1.1 client publish, after the frame was parsed: permission,
 * size, rate, then one bus publish exactly like the source-server's (same
 * history, ids, order, limits), with the sender's `sub` as `publisher` and
 * the idempotency key scoped to it. Resolves with the `published` reply;
 * rejects with a RelayError carrying the message's `ref` and `channel`.
 *
 * Publishing needs a token `sub` as well as a `publish` pattern: events
 * carry their publisher, and idempotency keys and the rate limit are
 * counted per publisher.
 */
export async function clientPublish(deps: ClientPublishDeps, claims: SubscriberClaims, message: PublishMessage): Promise<string> {
  const { channel, ref } = message;
  try {
    const sub = authorizePublish(claims, channel);
    if (message.dataBytes > deps.config.maxEventBytes) {
      throw new RelayError('payload_too_large', `"data" is ${message.dataBytes} bytes; at most ${deps.config.maxEventBytes} (MAX_EVENT_BYTES).`);
    }
    if (deps.lifecycle.isDraining) throw drainingError();
    await chargeRate(deps.publishRateLimiter, sub);
    const event: OutgoingEvent = { channel, data: message.data, ts: deps.now(), publisher: sub, idempotencyScope: `sub:${sub}` };
    if (message.idempotencyKey !== undefined) event.idempotencyKey = message.idempotencyKey;
    const [result] = await deps.lifecycle.track(() => deps.bus.publish([event]));
    if (!result) throw new RelayError('unavailable', undefined, { cause: new Error('the bus answered no result for one event') });
    deps.metrics.clientPublishes.inc({ outcome: result.replayed ? 'replayed' : 'published' });
    return publishedMessage(channel, result.id, ref, result.replayed);
  } catch (err) {
    // Bus failures are RelayErrors already (`unavailable`); anything else is one too, to the client.
    const refused = isRelayError(err) ? err : new RelayError('unavailable', undefined, { cause: err });
    deps.metrics.clientPublishes.inc({ outcome: refused.code });
    throw withRef(refused.withChannel(channel), ref);
  }
}

function authorizePublish(claims: SubscriberClaims, channel: string): string {
  if (!claims.publish?.allows(channel)) throw new RelayError('forbidden', 'Your token does not allow publishing to this channel.');
  if (claims.sub === undefined) throw new RelayError('forbidden', 'Publishing needs a token with a "sub" (the publisher shown to subscribers).');
  return claims.sub;
}

async function chargeRate(limiter: RateLimiter | undefined, sub: string): Promise<void> {
  if (!limiter) return;
  let decision;
  try {
    decision = await limiter.take(rateLimitKey(sub), 1);
  } catch (err) {
    if (isRelayError(err)) throw err;
    throw new RelayError('unavailable', 'The rate limit cannot be checked right now; retry shortly.', { cause: err });
  }
  if (!decision.allowed) {
    throw new RelayError('rate_limited', `Over the publish rate (PUBLISH_RATE_LIMIT); retry after ${decision.retryAfterSeconds} s.`, {
      retryAfter: decision.retryAfterSeconds,
    });
  }
}

/**
 * The counter key of a token `sub`: hashed like the source-server's keys (so
 * Redis shows no identities), in a namespace of its own (`sub:`), so that a
 * user and a publisher key never share a budget.
 */
function rateLimitKey(sub: string): string {
  return createHash('sha256').update(`sub:${sub}`).digest('base64url').slice(0, 32);
}
