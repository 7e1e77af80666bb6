import type { OutgoingEvent } from '../../engine/bus.js';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { PusherCode } from '../../protocol/pusher/codes.js';
import { encodeEnvelope } from '../../protocol/pusher/envelope.js';
import type { PusherChannelState } from './pusher-subscriptions.js';

export type ClientEventCheck = { event: OutgoingEvent } | { code: number | null; message: string };

/**
 * Checks a `client-*` event (pusher/docs `events.md`, "Triggering client
 * events") and builds what is stored: enabled for the app, the sender
 * subscribed to the channel, a private or presence channel (encrypted ones
 * cannot carry them: the server could not read what it signs), names and data
 * within the app's limits, and at most `clientEventsPerSecond` per
 * connection. Rejections are `pusher:error` messages, never a close (4301 as
 * a close would make pusher-js give up). Stored like a native client publish
 * (history, ids, `client.publish` webhooks), with the sender's socket in the
 * envelope so that it is not sent its own event, on any client-server.
 */
export function checkClientEvent(
  app: PusherApp,
  sender: { socketId: string; signedInId?: string },
  state: PusherChannelState | undefined,
  message: { event: string; channel: unknown; data: string },
  admit: () => boolean,
  ts: number,
): ClientEventCheck {
  const { limits } = app;
  if (!app.clientEvents) return { code: null, message: 'Client events are not enabled for this app' };
  if (!state) return { code: null, message: `Client events need a subscription to the channel: subscribe to ${JSON.stringify(message.channel)} first` };
  if (state.type.kind !== 'private' && state.type.kind !== 'presence') {
    return { code: null, message: 'Client events can only be sent on private- and presence- channels (not encrypted ones)' };
  }
  if (message.event.length > limits.maxEventNameLength) {
    return { code: PusherCode.clientEventRejected, message: `Client event rejected: the name is longer than ${limits.maxEventNameLength} characters` };
  }
  if (Buffer.byteLength(message.data) > limits.maxMessageBytes) {
    return { code: PusherCode.clientEventRejected, message: `Client event rejected: data is larger than ${limits.maxMessageBytes} bytes` };
  }
  if (!admit()) return { code: PusherCode.clientEventRejected, message: 'Client event rejected due to rate limit' };
  const userId = state.member?.userId;
  const data = encodeEnvelope({ event: message.event, data: message.data, client: userId === undefined ? { socketId: sender.socketId } : { socketId: sender.socketId, userId } });
  // Native subscribers and webhooks see who sent it: its presence user, else its signed-in user, else its socket.
  return { event: { channel: state.native, data, ts, publisher: userId ?? sender.signedInId ?? sender.socketId } };
}
