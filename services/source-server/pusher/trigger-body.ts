import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { isValidPusherChannel } from '../../protocol/pusher/channel-name.js';
import { isReservedEventName } from '../../protocol/pusher/envelope.js';
import { badRequest, PusherHttpError } from './pusher-http-error.js';

/** One event of a trigger or a batch, checked. */
export interface TriggerItem {
  name: string;
  data: string;
  channels: string[];
  socketId?: string;
  info: InfoAttributes;
}

export interface InfoAttributes {
  userCount: boolean;
  subscriptionCount: boolean;
}

const SOCKET_ID = /^\d+\.\d+$/;

export function parseJsonBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'string' || body.trim() === '') throw badRequest('The body must be a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw badRequest('The body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('The body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * `POST /apps/{id}/events` (pusher/docs rest-api.md): `name`, `data` (a
 * string; the SDKs stringify anything else, and so does this), `channels`
 * (at most maxChannelsPerTrigger) or `channel`, `socket_id` to exclude, and
 * `info` attributes to answer with.
 */
export function parseTrigger(app: PusherApp, raw: Record<string, unknown>, where = ''): TriggerItem {
  const { limits } = app;
  if (typeof raw.name !== 'string' || raw.name === '') throw badRequest(`${where}name must be a non-empty string`);
  if (raw.name.length > limits.maxEventNameLength) throw badRequest(`${where}name is longer than ${limits.maxEventNameLength} characters`);
  if (isReservedEventName(raw.name)) throw badRequest(`${where}name must not start with pusher: or pusher_internal:`);
  if (raw.data === undefined) throw badRequest(`${where}data is missing`);
  const data = typeof raw.data === 'string' ? raw.data : JSON.stringify(raw.data);
  if (Buffer.byteLength(data) > limits.maxMessageBytes) throw new PusherHttpError(413, `${where}data is larger than ${limits.maxMessageBytes} bytes`);
  const channels = channelsOf(raw, where);
  if (channels.length === 0) throw badRequest(`${where}channels must list at least one channel`);
  if (channels.length > limits.maxChannelsPerTrigger) throw badRequest(`${where}channels may list at most ${limits.maxChannelsPerTrigger} channels`);
  for (const channel of channels) {
    if (!isValidPusherChannel(channel, limits.maxChannelNameLength)) throw badRequest(`${where}invalid channel name ${JSON.stringify(channel)}`);
  }
  if (raw.socket_id !== undefined && (typeof raw.socket_id !== 'string' || !SOCKET_ID.test(raw.socket_id))) throw badRequest(`${where}socket_id must look like 123.456`);
  const item: TriggerItem = { name: raw.name, data, channels: [...new Set(channels)], info: parseInfo(raw.info, where) };
  if (typeof raw.socket_id === 'string') item.socketId = raw.socket_id;
  return item;
}

function channelsOf(raw: Record<string, unknown>, where: string): string[] {
  if (raw.channels !== undefined) {
    if (!Array.isArray(raw.channels) || !raw.channels.every((c) => typeof c === 'string')) throw badRequest(`${where}channels must be a list of names`);
    return raw.channels as string[];
  }
  if (typeof raw.channel === 'string') return [raw.channel];
  throw badRequest(`${where}channels or channel is required`);
}

/** `info=user_count,subscription_count` (a query parameter or a body field). */
export function parseInfo(raw: unknown, where = ''): InfoAttributes {
  if (raw === undefined || raw === '') return { userCount: false, subscriptionCount: false };
  if (typeof raw !== 'string') throw badRequest(`${where}info must be a comma-separated string`);
  const attributes = raw.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    userCount: attributes.includes('user_count'),
    subscriptionCount: attributes.includes('subscription_count'),
  };
}

/** The attributes a GET may ask for; unknown ones are a 400 there. */
export function parseQueryInfo(raw: unknown, allowed: readonly string[]): Set<string> {
  if (raw === undefined || raw === '') return new Set();
  if (typeof raw !== 'string') throw badRequest('info must be a comma-separated string');
  const attributes = new Set(raw.split(',').map((s) => s.trim()).filter(Boolean));
  for (const a of attributes) if (!allowed.includes(a)) throw badRequest(`info attribute ${JSON.stringify(a)} is not one of ${allowed.join(', ')}`);
  return attributes;
}
