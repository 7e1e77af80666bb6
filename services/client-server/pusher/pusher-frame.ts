import { channelType, fromNativeChannel } from '../../protocol/pusher/channel-name.js';
import { decodeEnvelope } from '../../protocol/pusher/envelope.js';
import { channelEvent } from '../../protocol/pusher/messages.js';
import type { OutboundEvent, PusherWire } from '../outbound-event.js';
import { textFrame } from '../transports/ws/ws-frame.js';

/**
 * The event's Pusher frame, built once per event (like `wire.ws`) and then
 * written as is to every Pusher socket of the channel: the native name is
 * decoded, the stored envelope (protocol/pusher/envelope.ts) unpacked, and
 * `user_id` added for client events on presence channels. Null: not a
 * Pusher channel, or an event no Pusher client may see.
 */
export function pusherWireOf(event: OutboundEvent): PusherWire | null {
  if (event.wire.pusher !== undefined) return event.wire.pusher;
  return (event.wire.pusher = buildWire(event));
}

function buildWire(event: OutboundEvent): PusherWire | null {
  const decoded = fromNativeChannel(event.channel);
  if (!decoded) return null;
  const envelope = decodeEnvelope(event.event.data.toString('utf8'));
  if (!envelope) return null;
  const userId = envelope.client?.userId !== undefined && channelType(decoded.name).kind === 'presence' ? envelope.client.userId : undefined;
  const frame = textFrame(Buffer.from(channelEvent(envelope.event, decoded.name, envelope.data, userId), 'utf8'));
  const skip = envelope.client?.socketId ?? envelope.exclude;
  return skip === undefined ? { frame, client: envelope.client !== undefined } : { frame, skip, client: envelope.client !== undefined };
}
