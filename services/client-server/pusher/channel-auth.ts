import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { channelType, isValidPusherChannel, needsAuth, USER_CHANNEL_PREFIX, type PusherChannelType } from '../../protocol/pusher/channel-name.js';
import type { SubscriptionErrorType } from '../../protocol/pusher/messages.js';
import { memberOf, parseChannelData, type PusherMember } from '../../protocol/pusher/presence-member.js';
import { channelAuthText, verifyAuth } from '../../protocol/pusher/signature.js';

/** A signed-in connection's user (`pusher:signin`). */
export interface SignedInUser {
  id: string;
  userInfo: unknown;
}

/** Why a subscribe is refused: the `pusher:subscription_error` data (the socket stays). */
export interface SubscribeRefusal {
  type: SubscriptionErrorType;
  error: string;
  status: number;
}

export type SubscribeGrant = { type: PusherChannelType; member?: PusherMember } | { refusal: SubscribeRefusal };

/**
 * Checks a `pusher:subscribe` (pusher/docs auth-signatures.md): the name,
 * then the signature for private, encrypted and presence channels (against
 * this socket's id and the exact `channel_data` string), then who the
 * presence member is (from `channel_data`, or the signed-in user when there
 * is none), and `#server-to-user-<id>` only for the socket signed in as `<id>`.
 */
export function checkSubscribe(
  app: PusherApp,
  socketId: string,
  request: { channel: string; auth?: unknown; channelData?: unknown },
  user: SignedInUser | undefined,
): SubscribeGrant {
  const { channel } = request;
  const { limits } = app;
  if (!isValidPusherChannel(channel, limits.maxChannelNameLength)) {
    return refuse('InvalidChannel', `Invalid channel name (at most ${limits.maxChannelNameLength} characters of A-Z a-z 0-9 _ - = @ , . ;)`, 400);
  }
  const type = channelType(channel);
  if (type.kind === 'user') {
    const id = channel.slice(USER_CHANNEL_PREFIX.length);
    if (user?.id !== id) return refuse('AuthError', `Only the connection signed in as "${id}" may subscribe to ${channel}`, 403);
    return { type };
  }
  if (!needsAuth(type.kind)) return { type };
  const channelData = typeof request.channelData === 'string' ? request.channelData : undefined;
  if (request.channelData !== undefined && channelData === undefined) return refuse('AuthError', 'channel_data must be a string', 400);
  if (type.kind !== 'presence' && channelData !== undefined) return refuse('AuthError', 'channel_data is only for presence channels', 400);
  const signed = channelAuthText(socketId, channel, channelData);
  if (!verifyAuth(app, request.auth, signed)) {
    return refuse('AuthError', `Invalid signature: expected HMAC SHA256 hex digest of '${signed}' with the app secret, as "${app.key}:<hex>"`, 401);
  }
  if (type.kind !== 'presence') return { type };
  let found: { member: PusherMember; infoBytes: number };
  if (channelData !== undefined) {
    const parsed = parseChannelData(channelData, limits.maxPresenceUserIdLength);
    if ('problem' in parsed) return refuse('AuthError', parsed.problem, 400);
    found = parsed;
  } else if (user) {
    found = memberOf(user.id, user.userInfo);
  } else {
    return refuse('AuthError', 'A presence subscription needs channel_data, or a signed-in connection', 400);
  }
  if (found.infoBytes > limits.maxPresenceUserInfoBytes) return refuse('LimitReached', `user_info is larger than ${limits.maxPresenceUserInfoBytes} bytes`, 413);
  return { type, member: found.member };
}

function refuse(type: SubscriptionErrorType, error: string, status: number): { refusal: SubscribeRefusal } {
  return { refusal: { type, error, status } };
}
