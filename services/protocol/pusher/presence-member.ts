/**
 * A Pusher presence member as the engine's shared presence keeps it, so
 * that native and Pusher subscribers of one channel see one member list.
 *
 * Pusher's `user_id` may be a number (Laravel sends the raw auth identifier,
 * `{"user_id":1}`): it is normalised to its string everywhere (dedupe key,
 * `ids`, `hash`, `member_added`, webhooks, `GET …/users`), as Pusher
 * documents user_id as a String. The engine keeps `info` as a JSON object;
 * `user_info` may be any JSON value (Laravel apps send `true`), so a value
 * that is not an object is wrapped as `{"pusher_user_info": value}` and
 * unwrapped for Pusher clients. No `user_info` is `{}`.
 */
export const WRAPPED_INFO_KEY = 'pusher_user_info';

export interface PusherMember {
  userId: string;
  /** What the engine stores: always a JSON object. */
  info: Record<string, unknown>;
}

export type ChannelDataResult = { member: PusherMember; infoBytes: number } | { problem: string };

/** Parses a presence subscribe's `channel_data` (its signature was checked over the same string). */
export function parseChannelData(channelData: string, maxUserIdLength: number): ChannelDataResult {
  let value: unknown;
  try {
    value = JSON.parse(channelData);
  } catch {
    return { problem: 'channel_data must be a JSON object' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'channel_data must be a JSON object' };
  const data = value as { user_id?: unknown; user_info?: unknown };
  const userId = normaliseUserId(data.user_id);
  if (userId === undefined) return { problem: 'channel_data.user_id must be a non-empty string or a number' };
  if (userId.length > maxUserIdLength) return { problem: `channel_data.user_id is longer than ${maxUserIdLength} characters` };
  return memberOf(userId, data.user_info);
}

export function memberOf(userId: string, userInfo: unknown): { member: PusherMember; infoBytes: number } {
  const infoBytes = userInfo === undefined ? 0 : Buffer.byteLength(JSON.stringify(userInfo));
  return { member: { userId, info: toNativeInfo(userInfo) }, infoBytes };
}

export function normaliseUserId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function toNativeInfo(userInfo: unknown): Record<string, unknown> {
  if (userInfo === undefined) return {};
  if (userInfo !== null && typeof userInfo === 'object' && !Array.isArray(userInfo)) return userInfo as Record<string, unknown>;
  return { [WRAPPED_INFO_KEY]: userInfo };
}

/** The `user_info` JSON text Pusher clients see for an engine `info`. */
export function pusherInfoJson(info: Record<string, unknown>): string {
  const keys = Object.keys(info);
  if (keys.length === 1 && keys[0] === WRAPPED_INFO_KEY) return JSON.stringify(info[WRAPPED_INFO_KEY]);
  return JSON.stringify(info);
}
