/**
 * The Pusher WebSocket messages the server sends, exactly as real clients
 * read them (pusher/docs `pusher-websockets-protocol.md`; pusher-js
 * `protocol.ts`, `channel.ts`, `presence_channel.ts`, `user.ts`). `data` is a
 * JSON *string* for channel events and for `pusher_internal:*` events
 * (servers that sent objects broke clients: reverb#337, sockudo#72);
 * `pusher:error` and `pusher:signin_success` carry an object, as Pusher's do.
 */

const str = JSON.stringify;

export function connectionEstablished(socketId: string, activityTimeoutSeconds: number): string {
  return `{"event":"pusher:connection_established","data":${str(str({ socket_id: socketId, activity_timeout: activityTimeoutSeconds }))}}`;
}

/** `code` null for an error that closes nothing (Pusher sends that for a bad subscription signature). */
export function errorMessage(code: number | null, message: string): string {
  return str({ event: 'pusher:error', data: { code, message } });
}

export const PONG = '{"event":"pusher:pong","data":"{}"}';

/** `presenceJson` for a presence channel: `{"presence":{"ids","hash","count"}}`. */
export function subscriptionSucceeded(channel: string, presenceJson?: string): string {
  return `{"event":"pusher_internal:subscription_succeeded","channel":${str(channel)},"data":${str(presenceJson ?? '{}')}}`;
}

/** pusher-js hands `data` to `channel.bind('pusher:subscription_error')`, as Laravel Echo's `.error()` does. */
export type SubscriptionErrorType = 'AuthError' | 'LimitReached' | 'InvalidChannel' | 'Unavailable';

export function subscriptionError(channel: string, type: SubscriptionErrorType, error: string, status: number): string {
  return `{"event":"pusher:subscription_error","channel":${str(channel)},"data":${str(str({ type, error, status }))}}`;
}

/** One member of a presence listing: its id and its `user_info` as JSON text. */
export interface PresenceListing {
  userId: string;
  infoJson: string;
}

/** The `data` of a presence `subscription_succeeded`: ids, the hash of user_info by id (the subscriber's own user included), count. */
export function presenceData(members: readonly PresenceListing[], count: number): string {
  const ids = members.map((m) => str(m.userId)).join(',');
  const hash = members.map((m) => `${str(m.userId)}:${m.infoJson}`).join(',');
  return `{"presence":{"ids":[${ids}],"hash":{${hash}},"count":${count}}}`;
}

export function memberAdded(channel: string, userId: string, infoJson: string): string {
  return `{"event":"pusher_internal:member_added","channel":${str(channel)},"data":${str(`{"user_id":${str(userId)},"user_info":${infoJson}}`)}}`;
}

export function memberRemoved(channel: string, userId: string): string {
  return `{"event":"pusher_internal:member_removed","channel":${str(channel)},"data":${str(`{"user_id":${str(userId)}}`)}}`;
}

/** As Pusher documents it: no `data`. */
export function cacheMiss(channel: string): string {
  return `{"event":"pusher:cache_miss","channel":${str(channel)}}`;
}

/** `userData`: the string the client signed, echoed; pusher-js parses it and needs a string `id`. */
export function signinSuccess(userData: string): string {
  return str({ event: 'pusher:signin_success', data: { user_data: userData } });
}

/** A channel event; `userId` only for client events on presence channels. `data` is the publisher's string, verbatim. */
export function channelEvent(event: string, channel: string, data: string, userId?: string): string {
  const user = userId === undefined ? '' : `,"user_id":${str(userId)}`;
  return `{"event":${str(event)},"channel":${str(channel)},"data":${str(data)}${user}}`;
}
