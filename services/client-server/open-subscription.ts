import type { Bus, BusEvent } from '../common/bus/bus.js';
import { RelayError, isRelayError } from '../common/errors.js';
import { parseEventId } from '../common/event-id.js';
import type { Hub } from './hub.js';
import { Subscription, type Sink } from './subscription.js';

export interface OpenedSubscription {
  subscription: Subscription;
  /** PROTOCOL.md: true without since, else whether the event `since` is still held. */
  recovered: boolean;
  /** Call after the `subscribed` reply is written: sends history, then live events. */
  start(): void;
}

/**
 * The resume algorithm, shared by WebSocket and SSE: join live first (events
 * buffer in the subscription), then read history after `since`; `start`
 * sends history and the buffer with no gap and no duplicate at the seam.
 */
export async function openSubscription(
  deps: { hub: Hub; bus: Bus },
  channel: string,
  since: string | undefined,
  sink: Sink,
): Promise<OpenedSubscription> {
  const subscription = new Subscription(channel, sink);
  try {
    await deps.hub.join(subscription);
  } catch (err) {
    throw asUnavailable(err, channel);
  }
  let recovered = true;
  let backlog: BusEvent[] = [];
  if (since !== undefined) {
    try {
      ({ recovered, events: backlog } = await deps.bus.history(channel, since));
    } catch (err) {
      subscription.closed = true;
      deps.hub.leave(subscription);
      throw asUnavailable(err, channel);
    }
  }
  return {
    subscription,
    recovered,
    start: () => subscription.goLive(since === undefined ? undefined : parseEventId(since), backlog),
  };
}

function asUnavailable(err: unknown, channel: string): RelayError {
  if (isRelayError(err)) return new RelayError(err.code, err.message, { channel, retryAfter: err.retryAfter });
  return new RelayError('unavailable', 'The relay cannot reach its event store right now; retry shortly.', { channel, retryAfter: 1, cause: err });
}
