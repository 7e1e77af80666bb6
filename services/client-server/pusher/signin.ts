import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { isValidUserId } from '../../protocol/pusher/channel-name.js';
import { userAuthText, verifyAuth } from '../../protocol/pusher/signature.js';
import type { SignedInUser } from './channel-auth.js';

export type SigninResult = { user: SignedInUser; userData: string } | { problem: string };

/**
 * Checks a `pusher:signin` (pusher/docs `user-authentication.md`): `auth`
 * signs `<socket_id>::user::<user_data>`, and user_data is a JSON object
 * with a non-empty string `id` (pusher-js ignores a success without one).
 * A connection signed in as one user cannot sign in as another.
 */
export function checkSignin(app: PusherApp, socketId: string, request: { auth: unknown; userData: unknown }, current: SignedInUser | undefined): SigninResult {
  if (typeof request.userData !== 'string') return { problem: 'user_data must be a string' };
  if (!verifyAuth(app, request.auth, userAuthText(socketId, request.userData))) {
    return { problem: `Invalid signature: expected HMAC SHA256 hex digest of '${userAuthText(socketId, request.userData)}' with the app secret` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.userData);
  } catch {
    return { problem: 'user_data must be a JSON object' };
  }
  const data = parsed as { id?: unknown; user_info?: unknown } | null;
  if (data === null || typeof data !== 'object' || typeof data.id !== 'string' || !isValidUserId(data.id)) {
    return { problem: 'user_data.id must be a non-empty string' };
  }
  if (current && current.id !== data.id) return { problem: `This connection is already signed in as another user` };
  return { user: { id: data.id, userInfo: data.user_info }, userData: request.userData };
}
