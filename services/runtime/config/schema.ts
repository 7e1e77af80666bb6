import { bool, custom, int, list, number, oneOf, text, type FieldValue } from './fields.js';
import type { PusherApp } from './pusher-apps.js';

/*
 * Every environment variable, one row each: name, parse and bounds, default,
 * and the README sentence. PROTOCOL.md names the core ones; the rest are
 * documented additions. `Config` is derived from these rows, the README's
 * configuration table is generated from them (`npm run docs:config`, checked
 * by test/runtime/config-docs.test.ts), and the manifests' variable names are
 * checked against them.
 */

/** At least this many recent events are kept per channel (Redis may keep up to ~100 more). */
export const DEFAULT_HISTORY_SIZE = 1000;
/** A channel idle for a day loses its history, so abandoned channels do not hold memory forever. */
export const DEFAULT_HISTORY_TTL_SECONDS = 24 * 60 * 60;
/** PROTOCOL.md default; large enough for rich JSON, small enough that one event never stalls a socket. */
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
/** PROTOCOL.md: retries with the same Idempotency-Key are recognised for 24 h. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** PROTOCOL.md default batch size limit. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;
/** Reconnects of drained clients are spread over this window instead of arriving in one millisecond. */
export const DEFAULT_DRAIN_WINDOW_SECONDS = 10;
/** A subscriber that has this much unsent data is too far behind to catch up live: close 4008, resume with since. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** WebSocket ping / SSE comment period; below the 30-60 s idle timeouts of common proxies and load balancers. */
export const DEFAULT_HEARTBEAT_SECONDS = 25;
/** Bounds the memory one connection can pin through subscriptions. */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1000;
/**
 * Far above what one browser, app or NAT'ed office opens, far below the tens
 * of thousands one script on one host can open to exhaust memory and file
 * descriptors. Counted across every client-server on the same Redis (one
 * round trip per connect); in the embedded mode, in its one process.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 1000;
/** A real client sends a few control messages a minute; a hundred a second sustained is a flood. */
export const DEFAULT_MAX_CLIENT_MESSAGES_PER_SECOND = 100;
/** A client may subscribe to its whole allowance of channels (DEFAULT_MAX_SUBSCRIPTIONS) right after connecting. */
export const DEFAULT_CLIENT_MESSAGES_BURST = DEFAULT_MAX_SUBSCRIPTIONS;
/**
 * Off: publishers hold keys we issued, and limiting them costs a Redis round
 * trip on every publish. Turn it on when keys go to parties you do not trust
 * to behave (a shared key per tenant, a key in a browser).
 */
export const DEFAULT_PUBLISH_RATE_LIMIT = 0;
/** Short enough that a throttled publisher is told to wait seconds, long enough to absorb a batch's burst. */
export const DEFAULT_PUBLISH_RATE_WINDOW_SECONDS = 10;
/**
 * A canary goes through Redis pub/sub this often; two missed ones (about 10 s)
 * mark the subscriber connection dead. Short enough that a silently dead
 * subscription is noticed long before history (1000 events) is outrun, long
 * enough that the canary is no load at all.
 */
export const DEFAULT_CANARY_INTERVAL_SECONDS = 5;
/**
 * Members of a client-server that died without leaving expire this long after
 * its last heartbeat (PROTOCOL.md v1.1 default): long enough to ride out a GC
 * pause or a Redis blip, short enough that a user list heals within a minute.
 */
export const DEFAULT_PRESENCE_TTL_SECONDS = 30;
/** Subscriber counts of the server API lag by at most this (PROTOCOL.md v1.1 default); each report is one Redis write per busy channel. */
export const DEFAULT_STATS_INTERVAL_SECONDS = 5;
/** A webhook secret must be as hard to guess as an HS256 key (PROTOCOL.md v1.1: at least 32 characters). */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;
/**
 * A webhook that fails is retried for a day (PROTOCOL.md v1.1 asks at least an
 * hour): a receiver down over a night still gets everything once it is back.
 */
export const DEFAULT_WEBHOOK_GIVE_UP_SECONDS = 24 * 60 * 60;
/** Room for the envelope around the largest `data` in a client publish frame (PROTOCOL.md v1.1: MAX_EVENT_BYTES + 16 KiB). */
export const FRAME_ENVELOPE_BYTES = 16 * 1024;
/** WAIT blocks a publish until replicas confirm; a second is generous on a LAN and bounds the 503's latency. */
export const DEFAULT_REDIS_WAIT_TIMEOUT_MS = 1000;
/** A publisher key shorter than this can be guessed. */
export const MIN_PUBLISHER_KEY_LENGTH = 16;
/** HS256 needs a 256-bit secret (RFC 7518 §3.2); the CLI's `token` command checks the same bound. */
export const MIN_JWT_SECRET_LENGTH = 32;

/**
 * What WRITE_DELAY_MS may gather per socket before writing: a few TCP
 * segments' worth, far below MAX_BUFFERED_BYTES, so a flush never makes a
 * healthy socket look slow.
 */
export const DEFAULT_WRITE_MAX_BYTES = 64 * 1024;
export const WS_COMPRESSION_MODES = ['off', 'on'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ORIGIN = /^https?:\/\/[^/\s]+$/;
const originCheck = (item: string) => (item === '*' || ORIGIN.test(item) ? undefined : `"${item}" is not an origin like https://app.example.com (or *)`);

export const CONFIG_FIELDS = {
  redisUrl: text('REDIS_URL', {
    doc: 'one standalone Redis: `redis://[[user]:password@]host:port[/db]`, or `rediss://` for TLS. `start:source` / `start:client` need it, `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES` (exactly one of the three)',
    defaultText: '— (embedded: in-memory)',
    check: (v) => (/^rediss?:\/\/./.test(v) ? undefined : 'must start with redis:// or rediss://'),
  }),
  redisSentinels: list('REDIS_SENTINELS', {
    default: [], defaultText: '—', check: hostPortCheck,
    doc: 'Redis Sentinel: the sentinels as `host:port,…`; the services follow the primary they name across failovers. Needs `REDIS_SENTINEL_MASTER`',
  }),
  redisSentinelMaster: text('REDIS_SENTINEL_MASTER', { doc: 'the name the sentinels monitor the primary under (`sentinel monitor <name> …`)' }),
  redisSentinelPassword: text('REDIS_SENTINEL_PASSWORD', { doc: 'the sentinels\' own password (`requirepass` on the sentinels), when they have one' }),
  redisClusterNodes: list('REDIS_CLUSTER_NODES', {
    default: [], defaultText: '—', check: hostPortCheck,
    doc: 'Redis Cluster: some of its nodes as `host:port,…` (the rest is discovered); live delivery uses sharded pub/sub (`SPUBLISH`), one subscriber connection per master',
  }),
  redisUsername: text('REDIS_USERNAME', { doc: 'Redis ACL user of the data nodes (all three modes; with `REDIS_URL` it may be in the URL instead)' }),
  redisPassword: text('REDIS_PASSWORD', { doc: 'password of the data nodes (all three modes; with `REDIS_URL` it may be in the URL instead)' }),
  redisTls: bool('REDIS_TLS', {
    default: false, defaultText: '`false` (`true` with a `rediss://` URL)',
    doc: 'TLS to every Redis connection (data nodes and sentinels); the certificate is verified against the system CAs or `REDIS_TLS_CA_FILE`',
  }),
  redisTlsCaFile: text('REDIS_TLS_CA_FILE', { doc: 'a PEM file of the CA(s) that signed the Redis certificates (a private CA); implies `REDIS_TLS=true`' }),
  sourcePort: int('SOURCE_PORT', { default: 8080, min: 0, max: 65535, doc: "the source-server's listening port" }),
  clientPort: int('CLIENT_PORT', { default: 8081, min: 0, max: 65535, doc: "the client-server's listening port" }),
  host: text('HOST', { default: '0.0.0.0', defaultText: '`0.0.0.0` (embedded with auth off: `127.0.0.1`)', doc: 'listening interface' }),
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info', doc: '`fatal` `error` `warn` `info` `debug` `trace` `silent`' }),
  nodeEnv: text('NODE_ENV', { doc: '`production` turns pretty logs off by default' }),
  logPretty: bool('LOG_PRETTY', {
    default: ({ env, isTty }) => isTty && env.NODE_ENV !== 'production',
    defaultText: 'on when stdout is a TTY and `NODE_ENV` ≠ production',
    doc: 'human-readable logs',
  }),
  publisherKeys: list('PUBLISHER_KEYS', {
    default: [],
    defaultText: '—',
    // Their length is checked in load.ts, together with the keys of PUBLISHER_KEYS_FILE.
    doc: `comma-separated publisher keys (≥ ${MIN_PUBLISHER_KEY_LENGTH} characters each); the source-server needs them`,
  }),
  publisherKeysFile: text('PUBLISHER_KEYS_FILE', { doc: 'a file of keys, one per line (`#` comments), added to `PUBLISHER_KEYS`' }),
  subscriberJwtSecret: text('SUBSCRIBER_JWT_SECRET', {
    doc: `HS256 secret (≥ ${MIN_JWT_SECRET_LENGTH} characters) for subscriber tokens; the client-server needs it, \`SUBSCRIBER_JWKS_URL\` or \`SUBSCRIBER_JWT_PUBLIC_KEY_FILE\``,
    check: (v) => (v.length >= MIN_JWT_SECRET_LENGTH ? undefined : `must be at least ${MIN_JWT_SECRET_LENGTH} characters (HS256 needs a 256-bit secret)`),
  }),
  authDisabled: bool('AUTH_DISABLED', {
    default: false,
    doc: 'turns every credential check off (warns loudly). `npm start` sets it when no credential is configured',
  }),
  historySize: int('HISTORY_SIZE', {
    default: DEFAULT_HISTORY_SIZE, min: 1, max: 10_000_000,
    doc: 'at least this many recent events kept per channel (Redis trims whole stream nodes, so it may keep ~100 more)',
  }),
  historyTtlSeconds: int('HISTORY_TTL_SECONDS', {
    default: DEFAULT_HISTORY_TTL_SECONDS, min: 0, max: 10 * 365 * 86400,
    doc: "a channel's history expires after this long without a publish (0: never)",
  }),
  maxEventBytes: int('MAX_EVENT_BYTES', { default: DEFAULT_MAX_EVENT_BYTES, min: 1, max: 16 * 1024 * 1024, doc: 'largest event `data`' }),
  allowedOrigins: list('ALLOWED_ORIGINS', {
    default: ['*'], defaultText: '`*`', check: originCheck,
    doc: 'origins allowed for SSE CORS and WebSocket upgrades (comma separated)',
  }),
  publishAllowedOrigins: list('PUBLISH_ALLOWED_ORIGINS', {
    default: [], defaultText: '— (off)', check: originCheck,
    doc: "origins allowed to publish from a browser (CORS on the source-server's `/v1/*`)",
  }),
  idempotencyTtlSeconds: int('IDEMPOTENCY_TTL_SECONDS', {
    default: DEFAULT_IDEMPOTENCY_TTL_SECONDS, min: 1, max: 30 * 86400, doc: 'how long an `Idempotency-Key` is remembered',
  }),
  maxBatchEvents: int('MAX_BATCH_EVENTS', { default: DEFAULT_MAX_BATCH_EVENTS, min: 1, max: 100_000, doc: 'events per `POST /v1/events`' }),
  drainWindowSeconds: number('DRAIN_WINDOW_SECONDS', {
    default: DEFAULT_DRAIN_WINDOW_SECONDS, min: 0, max: 3600,
    doc: 'at shutdown, subscriber connections are closed spread over this window',
  }),
  maxBufferedBytes: int('MAX_BUFFERED_BYTES', {
    default: DEFAULT_MAX_BUFFERED_BYTES, min: 1024, max: 1024 * 1024 * 1024,
    doc: 'a subscriber with more unsent data is cut with 4008 (slow consumer)',
  }),
  writeDelayMs: int('WRITE_DELAY_MS', {
    default: 0, min: 0, max: 1000,
    doc: "how long a WebSocket's events may be gathered into one write (fewer system calls for busy sockets, that much more latency); `0`: one write per socket per event-loop turn",
  }),
  writeMaxBytes: int('WRITE_MAX_BYTES', {
    default: DEFAULT_WRITE_MAX_BYTES, min: 1024, max: 16 * 1024 * 1024,
    doc: 'most bytes gathered for one WebSocket write; reaching it writes at once',
  }),
  wsCompression: oneOf('WS_COMPRESSION', WS_COMPRESSION_MODES, {
    default: 'off',
    doc: '`on`: permessage-deflate (RFC 7692, no context takeover) for clients that offer it; each event is compressed once and the frame shared',
  }),
  heartbeatSeconds: number('HEARTBEAT_SECONDS', {
    default: DEFAULT_HEARTBEAT_SECONDS, min: 0.1, max: 3600,
    doc: 'WebSocket ping / SSE `: ping` period; a socket missing two pings is dropped',
  }),
  maxFrameBytes: int('MAX_FRAME_BYTES', {
    // PROTOCOL.md v1.1: a client publish of the largest allowed data fits in a frame.
    default: ({ env }) => eventBytes(env.MAX_EVENT_BYTES) + FRAME_ENVELOPE_BYTES,
    defaultText: '`MAX_EVENT_BYTES` + 16384',
    min: 256, max: 16 * 1024 * 1024, doc: 'largest client WebSocket frame (larger: close 1009)',
  }),
  maxSubscriptionsPerConnection: int('MAX_SUBSCRIPTIONS_PER_CONNECTION', {
    default: DEFAULT_MAX_SUBSCRIPTIONS, min: 1, max: 1_000_000, doc: 'subscriptions one WebSocket may hold',
  }),
  maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', {
    default: DEFAULT_MAX_CONNECTIONS_PER_IP, min: 0, max: 10_000_000,
    doc: 'WebSocket + SSE connections one client IP may hold across all client-servers on the same Redis (a dead one stops counting within `PRESENCE_TTL_SECONDS`); over it 429 `rate_limited` with `Retry-After`; 0: no limit',
  }),
  trustProxy: custom<boolean | number | string[]>('TRUST_PROXY', {
    default: false,
    doc: 'whose `X-Forwarded-For` gives the client IP: `false` (the TCP peer), `true`, a number of proxy hops, or proxy addresses/CIDRs. The k8s manifests set `1` (the Ingress)',
    expected: 'true, false, a number of hops or proxy addresses/CIDRs',
    parse: parseTrustProxy,
  }),
  maxClientMessagesPerSecond: number('MAX_CLIENT_MESSAGES_PER_SECOND', {
    default: DEFAULT_MAX_CLIENT_MESSAGES_PER_SECOND, min: 0, max: 1_000_000,
    doc: 'sustained inbound WebSocket messages per connection (subscribe floods); over it close 4029; 0: off',
  }),
  clientMessagesBurst: int('CLIENT_MESSAGES_BURST', {
    default: DEFAULT_CLIENT_MESSAGES_BURST, min: 1, max: 10_000_000,
    doc: 'inbound messages a connection may send at once before the rate applies',
  }),
  publishRateLimit: number('PUBLISH_RATE_LIMIT', {
    default: DEFAULT_PUBLISH_RATE_LIMIT, min: 0, max: 10_000_000, defaultText: '`0` (off)',
    doc: 'events/s per publisher key, counted across all source-servers in Redis (a batch counts as its events); over it 429 `rate_limited` + `Retry-After`, nothing stored',
  }),
  publishRateWindowSeconds: int('PUBLISH_RATE_WINDOW_SECONDS', {
    default: DEFAULT_PUBLISH_RATE_WINDOW_SECONDS, min: 1, max: 3600,
    doc: 'the publish counting window: up to rate × window events per window',
  }),
  redisWaitReplicas: int('REDIS_WAIT_REPLICAS', {
    default: 0, min: 0, max: 100, doc: 'replicas that must acknowledge a publish (Redis `WAIT`) before the 200',
  }),
  redisWaitTimeoutMs: int('REDIS_WAIT_TIMEOUT_MS', {
    default: DEFAULT_REDIS_WAIT_TIMEOUT_MS, min: 1, max: 60_000, doc: 'how long that `WAIT` may take; fewer acknowledgements answer 503',
  }),
  presenceTtlSeconds: int('PRESENCE_TTL_SECONDS', {
    default: DEFAULT_PRESENCE_TTL_SECONDS, min: 3, max: 3600,
    doc: "presence members (and subscriber counts) of a client-server that died without leaving expire after this long; they then cause `leave` and `channel.vacated`",
  }),
  statsIntervalSeconds: number('STATS_INTERVAL_SECONDS', {
    default: DEFAULT_STATS_INTERVAL_SECONDS, min: 0.1, max: 600,
    doc: "how often each client-server reports its subscriber counts: the server API's `subscribers` lags by at most this",
  }),
  webhookUrls: list('WEBHOOK_URLS', {
    default: [], defaultText: '— (off)',
    check: (url) => (/^https?:\/\/[^\s]+$/.test(url) ? undefined : `"${url}" is not an http(s) URL`),
    doc: 'comma-separated URLs that receive signed webhooks (`channel.occupied`, `channel.vacated`, `presence.join`, `presence.leave`, `client.publish`); each is its own stream with its own retries',
  }),
  webhookSecret: text('WEBHOOK_SECRET', {
    doc: `HMAC-SHA256 key of the \`Eventrelay-Signature\` header (≥ ${MIN_WEBHOOK_SECRET_LENGTH} characters); required when \`WEBHOOK_URLS\` is set`,
    check: (v) => (v.length >= MIN_WEBHOOK_SECRET_LENGTH ? undefined : `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`),
  }),
  webhookGiveUpSeconds: int('WEBHOOK_GIVE_UP_SECONDS', {
    default: DEFAULT_WEBHOOK_GIVE_UP_SECONDS, min: 1, max: 30 * 86400,
    doc: 'a webhook still failing this long after it was made (its body\'s `time`) is given up (logged as an error, counted, the next one goes on); PROTOCOL.md promises at least an hour (3600), shorter is for tests',
  }),
  subscriberJwksUrl: text('SUBSCRIBER_JWKS_URL', {
    doc: 'a JWKS document of public keys for RS256 / ES256 / EdDSA subscriber tokens (fetched at start and refreshed; the token\'s `kid` picks the key)',
    check: (v) => (/^https?:\/\/[^\s]+$/.test(v) ? undefined : 'must be an http(s) URL'),
  }),
  subscriberJwtPublicKeyFile: text('SUBSCRIBER_JWT_PUBLIC_KEY_FILE', {
    doc: 'a PEM file with one SPKI public key for RS256 / ES256 / EdDSA subscriber tokens',
  }),
  subscriberJwtIssuer: text('SUBSCRIBER_JWT_ISSUER', { doc: 'when set, a subscriber token\'s `iss` must equal it (every algorithm)' }),
  subscriberJwtAudience: text('SUBSCRIBER_JWT_AUDIENCE', { doc: 'when set, a subscriber token\'s `aud` must equal it, or contain it when an array' }),
  pusherAppId: text('PUSHER_APP_ID', {
    doc: 'a Pusher Channels app (docs/pusher.md): its id, as the `pusher` SDKs send it in `/apps/{id}/…`; with `PUSHER_APP_KEY` and `PUSHER_APP_SECRET`',
  }),
  pusherAppKey: text('PUSHER_APP_KEY', { doc: 'that app\'s key: pusher-js connects to `/app/{key}`' }),
  pusherAppSecret: text('PUSHER_APP_SECRET', { doc: 'that app\'s secret: channel auth, signin, the HTTP API and webhooks are signed with it' }),
  pusherClientEvents: bool('PUSHER_CLIENT_EVENTS', { default: false, doc: 'whether that app\'s clients may send `client-*` events (off, as in Pusher)' }),
  pusherWebhookUrls: list('PUSHER_WEBHOOK_URLS', {
    default: [], defaultText: '— (off)',
    check: (url) => (/^https?:\/\/[^\s]+$/.test(url) ? undefined : `"${url}" is not an http(s) URL`),
    doc: 'URLs that receive that app\'s webhooks in Pusher\'s format (comma separated)',
  }),
  pusherAppsFile: text('PUSHER_APPS_FILE', {
    doc: 'a JSON file of several Pusher apps `{"apps":[{"id","key","secret","enabled","clientEvents","webhooks","limits"}]}` (docs/pusher.md), instead of `PUSHER_APP_*`',
  }),
  canaryIntervalSeconds: number('CANARY_INTERVAL_SECONDS', {
    default: DEFAULT_CANARY_INTERVAL_SECONDS, min: 0, max: 3600,
    doc: 'period of the pub/sub canary that detects a silently dead Redis subscription (readiness 503, forced reconnect); 0: off',
  }),
  consoleEnabled: bool('CONSOLE_ENABLED', {
    default: true,
    doc: "the client-server's live console at `/` (`/console/*`); `false` answers those routes 404. `/sdk/eventrelay.js` is served either way",
  }),
  consoleSourceUrl: text('CONSOLE_SOURCE_URL', {
    defaultText: "— (the page's own address when served on port 80/443, as behind the k8s Ingress; else its host at `SOURCE_PORT`, as `npm start` runs)",
    doc: 'the source-server address the console publishes to and reads the server API from, as a browser reaches it (e.g. `https://relay.example.com`); the page may change it (remembered per browser)',
    check: (v) => (/^https?:\/\/[^\s]+$/.test(v) ? undefined : 'must be an http(s) URL, e.g. https://relay.example.com'),
  }),
};

export type Config = { -readonly [K in keyof typeof CONFIG_FIELDS]: FieldValue<(typeof CONFIG_FIELDS)[K]> } & {
  /** Derived from the PUSHER_* rows (pusher-apps.ts); empty when Pusher compatibility is off. */
  pusherApps: PusherApp[];
  /** The PEM text of REDIS_TLS_CA_FILE, read by loadConfig (only a main.ts touches the filesystem). */
  redisTlsCa?: string;
};

/** `host:port` of a sentinel or cluster node (a hostname, IPv4, or `[IPv6]`). */
function hostPortCheck(item: string): string | undefined {
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(item) && Number(item.slice(item.lastIndexOf(':') + 1)) <= 65535
    ? undefined
    : `"${item}" is not host:port`;
}

/** MAX_EVENT_BYTES as the default of MAX_FRAME_BYTES sees it: its own default unless set to a whole number. */
function eventBytes(raw: string | undefined): number {
  const value = raw?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : DEFAULT_MAX_EVENT_BYTES;
}

function parseTrustProxy(raw: string): boolean | number | string[] | undefined {
  const value = raw.toLowerCase();
  if (value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return items.every((a) => /^[0-9a-f:.]+(\/\d{1,3})?$/.test(a)) ? items : undefined;
}
