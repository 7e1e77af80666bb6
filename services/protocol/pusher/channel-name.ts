/**
 * Pusher channel names (pusher/docs `using_channels/channels.md`) and how
 * they sit on eventrelay's bus: `pusher:<appId>:<escaped name>`.
 *
 * The escape keeps `A-Z a-z 0-9 _ . -` and writes every other byte of the
 * name's UTF-8 as `:` and two uppercase hex digits (`=` → `:3D`, `@` → `:40`,
 * `#` → `:23`). `:` never occurs in a Pusher name, so after the prefix every
 * `:` starts exactly one escape, and with uppercase hex as the only accepted
 * form the mapping is a bijection. Dots stay as they are: Laravel's
 * `private-App.Models.User.1` is `pusher:1:private-App.Models.User.1`.
 */

/** Every native channel of a Pusher app starts with this, then the app id and a `:`. */
export const PUSHER_NAMESPACE = 'pusher:';
/** pusher-js subscribes this channel (plus the user id) after a signin; only that user may join it. */
export const USER_CHANNEL_PREFIX = '#server-to-user-';
/** Pusher's documented limit on a channel name, prefix included; an app may raise it up to MAX_CHANNEL_NAME_LENGTH. */
export const DEFAULT_MAX_CHANNEL_NAME_LENGTH = 164;
/** pusher-http-node refuses longer names client-side (`validateChannel`), so nothing longer can be triggered. */
export const MAX_CHANNEL_NAME_LENGTH = 200;
/** An app id is part of native names: short, and free of `:` so that the name decodes without ambiguity. */
export const APP_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

const NAME_PATTERN = /^[A-Za-z0-9_\-=@,.;]+$/;
const KEPT = /[A-Za-z0-9_.-]/;

export type PusherChannelKind = 'public' | 'private' | 'encrypted' | 'presence' | 'user';

export interface PusherChannelType {
  kind: PusherChannelKind;
  /** A cache channel (`cache-`, `private-cache-`, `private-encrypted-cache-`, `presence-cache-`): its last event is replayed to a new subscriber. */
  cache: boolean;
}

/** The channel's kind by its prefix, anchored (pusher-js `channels.ts createChannel` decides the same way). */
export function channelType(name: string): PusherChannelType {
  if (name.startsWith(USER_CHANNEL_PREFIX)) return { kind: 'user', cache: false };
  if (name.startsWith('private-encrypted-')) return { kind: 'encrypted', cache: name.startsWith('private-encrypted-cache-') };
  if (name.startsWith('private-')) return { kind: 'private', cache: name.startsWith('private-cache-') };
  if (name.startsWith('presence-')) return { kind: 'presence', cache: name.startsWith('presence-cache-') };
  return { kind: 'public', cache: name.startsWith('cache-') };
}

/** Private, encrypted and presence channels need a signature from the app's auth endpoint. */
export function needsAuth(kind: PusherChannelKind): boolean {
  return kind === 'private' || kind === 'encrypted' || kind === 'presence';
}

/**
 * A name a Pusher client may use: `A-Z a-z 0-9 _ - = @ , . ;` up to
 * `maxLength`, or `#server-to-user-` and a user id (which may hold anything
 * but control characters: it is the app's own identifier).
 */
export function isValidPusherChannel(name: unknown, maxLength: number): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > maxLength) return false;
  if (name.startsWith(USER_CHANNEL_PREFIX)) return isValidUserId(name.slice(USER_CHANNEL_PREFIX.length));
  return NAME_PATTERN.test(name);
}

/** A signed-in user's id, as it appears in `#server-to-user-<id>`: non-empty, no control characters. */
export function isValidUserId(id: string): boolean {
  // eslint-disable-next-line no-control-regex
  return id.length > 0 && id.length <= MAX_CHANNEL_NAME_LENGTH && !/[\u0000-\u001f\u007f]/.test(id);
}

export function userChannel(userId: string): string {
  return USER_CHANNEL_PREFIX + userId;
}

/** The prefix every native channel of `appId` starts with. */
export function appNamespace(appId: string): string {
  return `${PUSHER_NAMESPACE}${appId}:`;
}

/** The native bus channel of Pusher channel `name` of app `appId`. */
export function toNativeChannel(appId: string, name: string): string {
  return appNamespace(appId) + escapeName(name);
}

/** `name` escaped as in native names (also a prefix: the escape of a prefix is a prefix of the escape). */
export function escapeName(name: string): string {
  let out = '';
  for (const char of name) {
    if (KEPT.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `:${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The app and Pusher name of a native channel, or undefined when it is not a well-formed Pusher channel. */
export function fromNativeChannel(native: string): { appId: string; name: string } | undefined {
  if (!native.startsWith(PUSHER_NAMESPACE)) return undefined;
  const sep = native.indexOf(':', PUSHER_NAMESPACE.length);
  if (sep < 0) return undefined;
  const appId = native.slice(PUSHER_NAMESPACE.length, sep);
  if (!APP_ID_PATTERN.test(appId)) return undefined;
  const name = unescapeName(native.slice(sep + 1));
  return name === undefined || name === '' ? undefined : { appId, name };
}

function unescapeName(escaped: string): string | undefined {
  if (!escaped.includes(':')) return /^[A-Za-z0-9_.-]*$/.test(escaped) ? escaped : undefined;
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const char = escaped[i]!;
    if (char !== ':') {
      if (!KEPT.test(char)) return undefined;
      bytes.push(char.charCodeAt(0));
      continue;
    }
    const hex = escaped.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
    const byte = parseInt(hex, 16);
    // A kept character written as an escape would give one name two spellings.
    if (KEPT.test(String.fromCharCode(byte))) return undefined;
    bytes.push(byte);
    i += 2;
  }
  const buffer = Buffer.from(bytes);
  const text = buffer.toString('utf8');
  // Bytes that are not UTF-8 decode to U+FFFD and would not round-trip.
  return Buffer.from(text, 'utf8').equals(buffer) ? text : undefined;
}
