import type { Bus } from '../engine/bus.js';
import type { PresenceMember } from '../engine/presence.js';
import { RelayError, isRelayError } from '../protocol/errors.js';
import type { Hub } from './hub.js';
import { OutboundEvent } from './outbound-event.js';
import { Subscription, type Sink } from './subscription.js';

export interface SubscribeRequest {
  channel: string;
  /** Resume after this id (PROTOCOL.md `since`). */
  since?: string;
  /** Join the channel's presence as `member` (`connection` unique in this process) once the subscription is live. */
  presence?: { connection: string; member: PresenceMember };
  /**
   * Without `since`: read the channel's newest id once live and start after
   * it, so that a stream cursor has a position for a channel that has sent
   * nothing yet (a resume from it then replays nothing from before).
   */
  baseline?: boolean;
}

export interface OpenedSubscription {
  subscription: Subscription;
  /** PROTOCOL.md: true without since, else whether the event `since` is still held. */
  recovered: boolean;
  /** The reply's `presence` JSON, when presence was asked for. */
  presence?: string;
  /** The id the subscription delivers after (`since`, or the baseline); undefined: after nothing. */
  from?: string;
  /** Call after the `subscribed` reply is written: sends history, then live events. */
  start(): void;
}

/**
 * The resume algorithm, shared by WebSocket and SSE: join live first (events
 * buffer in the subscription), then read history after `since`, then join
 * presence (after the subscription is live, so that channel.occupied comes
 * first); `start` sends history and the buffer with no gap and no duplicate
 * at the seam. On failure nothing stays subscribed and the error names the
 * channel. Resolves undefined when the subscription was closed meanwhile.
 */
export async function openSubscription(
  deps: { hub: Hub; bus: Pick<Bus, 'history' | 'latest' | 'ids'> },
  request: SubscribeRequest,
  sink: Sink,
): Promise<OpenedSubscription | undefined> {
  const { channel, since } = request;
  const subscription = new Subscription(channel, sink, deps.bus.ids, deps.hub, request.presence?.member.user);
  try {
    await deps.hub.join(subscription);
  } catch (err) {
    throw storeError(err, channel);
  }
  try {
    let recovered = true;
    let backlog: OutboundEvent[] = [];
    let from = since;
    if (since !== undefined) {
      const history = await deps.bus.history(channel, since);
      recovered = history.recovered;
      backlog = history.events.map((event) => new OutboundEvent(event));
    } else if (request.baseline) {
      from = (await deps.bus.latest(channel, 1))[0]?.id;
    }
    let presence: string | undefined;
    if (request.presence) {
      presence = await deps.hub.joinPresence(subscription, request.presence.connection, request.presence.member);
      if (presence === undefined) return undefined;
    }
    if (subscription.isClosed) return undefined;
    return { subscription, recovered, presence, from, start: () => subscription.goLive(from, backlog) };
  } catch (err) {
    subscription.close();
    throw storeError(err, channel);
  }
}

function storeError(err: unknown, channel: string): RelayError {
  if (isRelayError(err)) return err.withChannel(channel);
  return new RelayError('unavailable', undefined, { channel, cause: err });
}
