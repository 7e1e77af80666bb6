import { APP_ID_PATTERN, DEFAULT_MAX_CHANNEL_NAME_LENGTH, MAX_CHANNEL_NAME_LENGTH } from '../../protocol/pusher/channel-name.js';
import { PUSHER_WEBHOOK_KINDS, type PusherWebhookKind } from '../../protocol/pusher/webhooks.js';

/**
 * Pusher Channels apps (docs/pusher.md): one from PUSHER_APP_ID / _KEY /
 * _SECRET, or several from PUSHER_APPS_FILE. Both services read the same
 * list: the client-server finds apps by key, the source-server by id.
 */
export interface PusherApp {
  id: string;
  key: string;
  secret: string;
  /** A disabled app's connections are refused with 4003 and its API calls with 403. */
  enabled: boolean;
  /** Whether clients may send `client-*` events (Pusher's default: off). */
  clientEvents: boolean;
  webhooks: PusherWebhook[];
  limits: PusherLimits;
}

export interface PusherWebhook {
  url: string;
  /** The kinds this URL receives; all of them when absent. */
  events?: PusherWebhookKind[];
}

/** Pusher's documented limits (pusher/docs), each configurable per app in PUSHER_APPS_FILE. */
export interface PusherLimits {
  /** Bytes of one event's `data` (API 413, client event 4301). */
  maxMessageBytes: number;
  maxChannelsPerTrigger: number;
  maxBatchEvents: number;
  /** Client events per second per connection (above: `pusher:error` 4301). */
  clientEventsPerSecond: number;
  maxPresenceMembers: number;
  maxPresenceUserInfoBytes: number;
  maxPresenceUserIdLength: number;
  maxChannelNameLength: number;
  maxEventNameLength: number;
  /** How old the last event of a cache channel may be and still be replayed. */
  cacheTtlSeconds: number;
  /** `activity_timeout` of the handshake: pusher-js pings after this long without a message. */
  activityTimeoutSeconds: number;
}

export const DEFAULT_PUSHER_LIMITS: PusherLimits = {
  maxMessageBytes: 10 * 1024,
  maxChannelsPerTrigger: 100,
  maxBatchEvents: 10,
  clientEventsPerSecond: 10,
  maxPresenceMembers: 100,
  maxPresenceUserInfoBytes: 1024,
  maxPresenceUserIdLength: 128,
  maxChannelNameLength: DEFAULT_MAX_CHANNEL_NAME_LENGTH,
  maxEventNameLength: 200,
  cacheTtlSeconds: 30 * 60,
  // Pusher's recommendation, and pusher-js's own default.
  activityTimeoutSeconds: 120,
};

/** Upper bounds of the limits: each keeps one event, one presence reply or one handshake within what the relay handles well. */
const LIMIT_MAX: PusherLimits = {
  maxMessageBytes: 1024 * 1024,
  maxChannelsPerTrigger: 1000,
  maxBatchEvents: 1000,
  clientEventsPerSecond: 1000,
  maxPresenceMembers: 1000,
  maxPresenceUserInfoBytes: 1024,
  maxPresenceUserIdLength: 1024,
  maxChannelNameLength: MAX_CHANNEL_NAME_LENGTH,
  maxEventNameLength: 1000,
  cacheTtlSeconds: 24 * 60 * 60,
  activityTimeoutSeconds: 3600,
};

/** The variables this reads (schema.ts rows). */
export interface PusherAppSettings {
  pusherAppId?: string;
  pusherAppKey?: string;
  pusherAppSecret?: string;
  pusherAppsFile?: string;
  pusherClientEvents: boolean;
  pusherWebhookUrls: string[];
}

/** The apps of `settings`; every problem is pushed to `problems`, naming the variable or the file's field. */
export function loadPusherApps(settings: PusherAppSettings, readFile: ((path: string) => string) | undefined, problems: string[]): PusherApp[] {
  const single = [settings.pusherAppId, settings.pusherAppKey, settings.pusherAppSecret];
  const anySingle = single.some((v) => v !== undefined);
  if (settings.pusherAppsFile !== undefined) {
    if (anySingle) problems.push('PUSHER_APPS_FILE and PUSHER_APP_ID/PUSHER_APP_KEY/PUSHER_APP_SECRET are both set: use one or the other');
    return appsFromFile(settings.pusherAppsFile, readFile, problems);
  }
  if (!anySingle) return [];
  if (single.some((v) => v === undefined)) {
    problems.push('PUSHER_APP_ID, PUSHER_APP_KEY and PUSHER_APP_SECRET must be set together');
    return [];
  }
  const app = checkApp(
    { id: settings.pusherAppId, key: settings.pusherAppKey, secret: settings.pusherAppSecret, clientEvents: settings.pusherClientEvents, webhooks: settings.pusherWebhookUrls.map((url) => ({ url })) },
    'PUSHER_APP',
    problems,
  );
  return app ? [app] : [];
}

function appsFromFile(path: string, readFile: ((path: string) => string) | undefined, problems: string[]): PusherApp[] {
  if (!readFile) {
    problems.push('PUSHER_APPS_FILE is set but files cannot be read here');
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFile(path));
  } catch (err) {
    problems.push(`PUSHER_APPS_FILE: cannot read ${path} as JSON (${(err as Error).message})`);
    return [];
  }
  const list = (parsed as { apps?: unknown } | null)?.apps;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push('PUSHER_APPS_FILE must hold {"apps":[{"id","key","secret",…}, …]} with at least one app');
    return [];
  }
  const apps = list.map((raw, i) => checkApp(raw, `PUSHER_APPS_FILE apps[${i}]`, problems)).filter((a): a is PusherApp => a !== undefined);
  for (const field of ['id', 'key'] as const) {
    const seen = new Set<string>();
    for (const app of apps) {
      if (seen.has(app[field])) problems.push(`PUSHER_APPS_FILE: two apps have the ${field} "${app[field]}"`);
      seen.add(app[field]);
    }
  }
  return apps;
}

function checkApp(raw: unknown, where: string, problems: string[]): PusherApp | undefined {
  if (raw === null || typeof raw !== 'object') {
    problems.push(`${where} must be an object`);
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const before = problems.length;
  if (typeof r.id !== 'string' || !APP_ID_PATTERN.test(r.id)) problems.push(`${where}: id must be 1 to 32 characters of A-Z, a-z, 0-9, "_" and "-" (it is part of channel names)`);
  if (typeof r.key !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(r.key) || r.key.includes(':')) problems.push(`${where}: key must be 1 to 128 visible ASCII characters without ":"`);
  if (typeof r.secret !== 'string' || r.secret.length === 0) problems.push(`${where}: secret must be a non-empty string`);
  for (const flag of ['enabled', 'clientEvents'] as const) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean') problems.push(`${where}: ${flag} must be true or false`);
  }
  const webhooks = checkWebhooks(r.webhooks, where, problems);
  const limits = checkLimits(r.limits, where, problems);
  if (problems.length > before) return undefined;
  return {
    id: r.id as string,
    key: r.key as string,
    secret: r.secret as string,
    enabled: r.enabled !== false,
    clientEvents: r.clientEvents === true,
    webhooks,
    limits,
  };
}

function checkWebhooks(raw: unknown, where: string, problems: string[]): PusherWebhook[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${where}: webhooks must be a list of {"url", "events"?}`);
    return [];
  }
  return raw.flatMap((w: unknown, i): PusherWebhook[] => {
    const hook = (w ?? {}) as { url?: unknown; events?: unknown };
    if (typeof hook.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(hook.url)) {
      problems.push(`${where}: webhooks[${i}].url must be an http(s) URL`);
      return [];
    }
    if (hook.events === undefined) return [{ url: hook.url }];
    const kinds = PUSHER_WEBHOOK_KINDS as readonly unknown[];
    if (!Array.isArray(hook.events) || !hook.events.every((e) => kinds.includes(e))) {
      problems.push(`${where}: webhooks[${i}].events must list some of ${PUSHER_WEBHOOK_KINDS.join(', ')}`);
      return [];
    }
    return [{ url: hook.url, events: hook.events as PusherWebhookKind[] }];
  });
}

function checkLimits(raw: unknown, where: string, problems: string[]): PusherLimits {
  const limits = { ...DEFAULT_PUSHER_LIMITS };
  if (raw === undefined) return limits;
  if (raw === null || typeof raw !== 'object') {
    problems.push(`${where}: limits must be an object`);
    return limits;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(name in limits)) {
      problems.push(`${where}: limits.${name} is not a limit (known: ${Object.keys(limits).join(', ')})`);
      continue;
    }
    const key = name as keyof PusherLimits;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LIMIT_MAX[key]) {
      problems.push(`${where}: limits.${name} must be a whole number from 1 to ${LIMIT_MAX[key]}`);
      continue;
    }
    limits[key] = value;
  }
  return limits;
}
