import type { Bus } from '../engine/bus.js';
import { RelayError, isRelayError } from '../protocol/errors.js';
import type { Hub } from './hub.js';
import { OutboundEvent } from './outbound-event.js';
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
 * On failure nothing stays subscribed and the error names the channel.
 */
export async function openSubscription(
  deps: { hub: Hub; bus: Pick<Bus, 'history' | 'ids'> },
  channel: string,
  since: string | undefined,
  sink: Sink,
): Promise<OpenedSubscription> {
  const subscription = new Subscription(channel, sink, deps.bus.ids, deps.hub);
  try {
    await deps.hub.join(subscription);
  } catch (err) {
    throw storeError(err, channel);
  }
  let recovered = true;
  let backlog: OutboundEvent[] = [];
  if (since !== undefined) {
    try {
      const history = await deps.bus.history(channel, since);
      recovered = history.recovered;
      backlog = history.events.map((event) => new OutboundEvent(event));
    } catch (err) {
      subscription.close();
      throw storeError(err, channel);
    }
  }
  return { subscription, recovered, start: () => subscription.goLive(since, backlog) };
}

function storeError(err: unknown, channel: string): RelayError {
  if (isRelayError(err)) return err.withChannel(channel);
  return new RelayError('unavailable', undefined, { channel, cause: err });
}
