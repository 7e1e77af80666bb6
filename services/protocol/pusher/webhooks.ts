import { channelType, fromNativeChannel } from './channel-name.js';
import { decodeEnvelope } from './envelope.js';
import { webhookSignature } from './signature.js';

/**
 * Webhooks in Pusher's format (pusher/docs `server_api/webhooks.md`,
 * pusher-http-node `lib/webhook.js`): `POST` of `{"time_ms":…,"events":[…]}`
 * with `X-Pusher-Key`, `X-Pusher-Signature` (hex HMAC-SHA256 of the raw body
 * with the app secret) and `Content-Type: application/json` exactly: with a
 * charset parameter pusher-http-node's `isValid()` is false.
 */
export const PUSHER_WEBHOOK_KINDS = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss'] as const;
export type PusherWebhookKind = (typeof PUSHER_WEBHOOK_KINDS)[number];

/** One event of a Pusher webhook body. */
export type PusherWebhookEvent =
  | { name: 'channel_occupied' | 'channel_vacated' | 'cache_miss'; channel: string }
  | { name: 'member_added' | 'member_removed'; channel: string; user_id: string }
  | { name: 'client_event'; channel: string; event: string; data: string; socket_id: string; user_id?: string };

/** A transition of the native outbox (engine/outbox.ts `transitionJson`), as far as this needs it. */
interface NativeTransition {
  kind?: unknown;
  channel?: unknown;
  user?: unknown;
  data?: unknown;
}

/**
 * The Pusher webhook event of one native transition (its JSON text), with
 * the app it belongs to; undefined for a transition of a channel that is not
 * a Pusher app's, or of a kind Pusher does not report.
 */
export function pusherWebhookEvent(transitionJson: string): { appId: string; event: PusherWebhookEvent } | undefined {
  let t: NativeTransition;
  try {
    t = JSON.parse(transitionJson) as NativeTransition;
  } catch {
    return undefined;
  }
  if (typeof t.channel !== 'string') return undefined;
  const decoded = fromNativeChannel(t.channel);
  if (!decoded) return undefined;
  const channel = decoded.name;
  const event = ((): PusherWebhookEvent | undefined => {
    switch (t.kind) {
      case 'channel.occupied':
        return { name: 'channel_occupied', channel };
      case 'channel.vacated':
        return { name: 'channel_vacated', channel };
      case 'cache.miss':
        return { name: 'cache_miss', channel };
      case 'presence.join':
      case 'presence.leave':
        if (typeof t.user !== 'string') return undefined;
        return { name: t.kind === 'presence.join' ? 'member_added' : 'member_removed', channel, user_id: t.user };
      case 'client.publish':
        return clientEvent(channel, t.data);
      default:
        return undefined;
    }
  })();
  return event && { appId: decoded.appId, event };
}

function clientEvent(channel: string, data: unknown): PusherWebhookEvent | undefined {
  if (data === undefined) return undefined;
  const envelope = decodeEnvelope(JSON.stringify(data));
  if (!envelope?.client) return undefined;
  const event: PusherWebhookEvent = { name: 'client_event', channel, event: envelope.event, data: envelope.data, socket_id: envelope.client.socketId };
  if (envelope.client.userId !== undefined && channelType(channel).kind === 'presence') event.user_id = envelope.client.userId;
  return event;
}

export function pusherWebhookBody(timeMs: number, events: readonly PusherWebhookEvent[]): string {
  return JSON.stringify({ time_ms: timeMs, events });
}

/** The headers of a Pusher webhook POST of `body`. */
export function pusherWebhookHeaders(app: { key: string; secret: string }, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-pusher-key': app.key,
    'x-pusher-signature': webhookSignature(app.secret, body),
  };
}
