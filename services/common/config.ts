/**
 * All configuration comes from environment variables (names in PROTOCOL.md
 * plus the additions documented in the README). `loadConfig` reports every
 * bad variable at once, by name, so an operator fixes them in one pass.
 * Only a main.ts calls it; everything else receives the resulting object.
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
/** Client frames are small control messages; anything larger is hostile or a bug. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024;
/** Bounds the memory one connection can pin through subscriptions. */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1000;
/**
 * Far above what one browser, app or NAT'ed office opens, far below the tens
 * of thousands one script on one host can open to exhaust memory and file
 * descriptors. Counted per process: N replicas admit up to N times this.
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

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  /** REDIS_URL: redis:// or rediss:// (TLS). Absent: in-memory bus (embedded mode only). */
  redisUrl?: string;
  /** HOST: interface to listen on. Default 0.0.0.0. */
  host: string;
  /** SOURCE_PORT: default 8080. */
  sourcePort: number;
  /** CLIENT_PORT: default 8081. */
  clientPort: number;
  /** LOG_LEVEL: default info. */
  logLevel: LogLevel;
  /** LOG_PRETTY: human-readable logs; default on when stdout is a TTY outside production. */
  logPretty: boolean;
  /** PUBLISHER_KEYS (comma separated) plus the lines of PUBLISHER_KEYS_FILE. */
  publisherKeys: string[];
  /** SUBSCRIBER_JWT_SECRET: HS256 secret for subscriber tokens. */
  subscriberJwtSecret?: string;
  /** AUTH_DISABLED: turns every credential check off. Default false. */
  authDisabled: boolean;
  /** HISTORY_SIZE: default 1000. */
  historySize: number;
  /** HISTORY_TTL_SECONDS: idle channel history expiry; 0 keeps it forever. Default 86400. */
  historyTtlSeconds: number;
  /** MAX_EVENT_BYTES: default 65536. */
  maxEventBytes: number;
  /** ALLOWED_ORIGINS: origins allowed for SSE CORS and WebSocket upgrades; ['*'] allows all. */
  allowedOrigins: string[];
  /** PUBLISH_ALLOWED_ORIGINS: origins allowed to publish from a browser (CORS on /v1/*). Default none: off. */
  publishAllowedOrigins: string[];
  /** IDEMPOTENCY_TTL_SECONDS: default 86400. */
  idempotencyTtlSeconds: number;
  /** MAX_BATCH_EVENTS: default 1000. */
  maxBatchEvents: number;
  /** DRAIN_WINDOW_SECONDS: connections are closed spread over this window at shutdown. Default 10. */
  drainWindowSeconds: number;
  /** MAX_BUFFERED_BYTES: slow-consumer limit per connection. Default 1 MiB. */
  maxBufferedBytes: number;
  /** HEARTBEAT_SECONDS: WebSocket ping and SSE comment period. Default 25. */
  heartbeatSeconds: number;
  /** MAX_FRAME_BYTES: largest client WebSocket frame. Default 16384. */
  maxFrameBytes: number;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION: default 1000. */
  maxSubscriptionsPerConnection: number;
  /** MAX_CONNECTIONS_PER_IP: WebSocket and SSE connections one client IP may hold on this process; 0 is no limit. Default 1000. */
  maxConnectionsPerIp: number;
  /**
   * TRUST_PROXY: whose X-Forwarded-For to believe for the client IP (per-IP
   * limits, logs): `false` (default: the TCP peer), `true` (any proxy: only
   * when the pods cannot be reached except through your proxies), a number of
   * proxy hops, or comma-separated proxy addresses/CIDRs. Passed to fastify's trustProxy.
   */
  trustProxy: boolean | number | string[];
  /** MAX_CLIENT_MESSAGES_PER_SECOND: sustained inbound WebSocket messages per connection (over it: close 4029); 0 is no limit. Default 100. */
  maxClientMessagesPerSecond: number;
  /** CLIENT_MESSAGES_BURST: inbound WebSocket messages a connection may send at once. Default 1000. */
  clientMessagesBurst: number;
  /** PUBLISH_RATE_LIMIT: events per second per publisher key, counted across replicas in Redis (over it: 429); 0 is off. Default 0. */
  publishRateLimit: number;
  /** PUBLISH_RATE_WINDOW_SECONDS: the counting window; a key may publish PUBLISH_RATE_LIMIT x this many events in one window. Default 10. */
  publishRateWindowSeconds: number;
  /** REDIS_WAIT_REPLICAS: replicas that must acknowledge a publish (Redis WAIT) before 200. Default 0. */
  redisWaitReplicas: number;
  /** REDIS_WAIT_TIMEOUT_MS: how long WAIT may take. Default 1000. */
  redisWaitTimeoutMs: number;
  /** CANARY_INTERVAL_SECONDS: period of the pub/sub canary that detects a silently dead subscription; 0 turns it off. Default 5. */
  canaryIntervalSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Reads PUBLISHER_KEYS_FILE; injected so that only main.ts touches the filesystem. */
  readFile?: (path: string) => string;
  /** Whether stdout is a terminal (decides the default of LOG_PRETTY). */
  isTty?: boolean;
}

export function loadConfig(env: Env, options: LoadConfigOptions = {}): Config {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const redisUrl = read.string('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl)) {
    problems.push('REDIS_URL must start with redis:// or rediss://');
  }
  const production = env.NODE_ENV === 'production';

  const publisherKeys = splitList(env.PUBLISHER_KEYS);
  const keysFile = read.string('PUBLISHER_KEYS_FILE');
  if (keysFile !== undefined) {
    if (!options.readFile) problems.push('PUBLISHER_KEYS_FILE is set but files cannot be read here');
    else {
      try {
        publisherKeys.push(...options.readFile(keysFile).split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#')));
      } catch (err) {
        problems.push(`PUBLISHER_KEYS_FILE: cannot read ${keysFile} (${(err as Error).message})`);
      }
    }
  }
  for (const key of publisherKeys) {
    if (key.length < 16) {
      problems.push('PUBLISHER_KEYS: every key must be at least 16 characters (a short key can be guessed)');
      break;
    }
  }
  const secret = read.string('SUBSCRIBER_JWT_SECRET');
  if (secret !== undefined && secret.length < 32) {
    problems.push('SUBSCRIBER_JWT_SECRET must be at least 32 characters (HS256 needs a 256-bit secret)');
  }

  const origins = splitList(env.ALLOWED_ORIGINS ?? '*');
  const publishOrigins = splitList(env.PUBLISH_ALLOWED_ORIGINS);
  for (const [name, list] of [['ALLOWED_ORIGINS', origins], ['PUBLISH_ALLOWED_ORIGINS', publishOrigins]] as const) {
    for (const origin of list) {
      if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
        problems.push(`${name}: "${origin}" is not an origin like https://app.example.com (or *)`);
      }
    }
  }

  const config: Config = {
    redisUrl,
    host: read.string('HOST') ?? '0.0.0.0',
    sourcePort: read.int('SOURCE_PORT', 8080, 0, 65535),
    clientPort: read.int('CLIENT_PORT', 8081, 0, 65535),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logPretty: read.bool('LOG_PRETTY', Boolean(options.isTty) && !production),
    publisherKeys,
    subscriberJwtSecret: secret,
    authDisabled: read.bool('AUTH_DISABLED', false),
    historySize: read.int('HISTORY_SIZE', DEFAULT_HISTORY_SIZE, 1, 10_000_000),
    historyTtlSeconds: read.int('HISTORY_TTL_SECONDS', DEFAULT_HISTORY_TTL_SECONDS, 0, 10 * 365 * 86400),
    maxEventBytes: read.int('MAX_EVENT_BYTES', DEFAULT_MAX_EVENT_BYTES, 1, 16 * 1024 * 1024),
    allowedOrigins: origins.length ? origins : ['*'],
    publishAllowedOrigins: publishOrigins,
    idempotencyTtlSeconds: read.int('IDEMPOTENCY_TTL_SECONDS', DEFAULT_IDEMPOTENCY_TTL_SECONDS, 1, 30 * 86400),
    maxBatchEvents: read.int('MAX_BATCH_EVENTS', DEFAULT_MAX_BATCH_EVENTS, 1, 100_000),
    drainWindowSeconds: read.number('DRAIN_WINDOW_SECONDS', DEFAULT_DRAIN_WINDOW_SECONDS, 0, 3600),
    maxBufferedBytes: read.int('MAX_BUFFERED_BYTES', DEFAULT_MAX_BUFFERED_BYTES, 1024, 1024 * 1024 * 1024),
    heartbeatSeconds: read.number('HEARTBEAT_SECONDS', DEFAULT_HEARTBEAT_SECONDS, 0.1, 3600),
    maxFrameBytes: read.int('MAX_FRAME_BYTES', DEFAULT_MAX_FRAME_BYTES, 256, 16 * 1024 * 1024),
    maxSubscriptionsPerConnection: read.int('MAX_SUBSCRIPTIONS_PER_CONNECTION', DEFAULT_MAX_SUBSCRIPTIONS, 1, 1_000_000),
    trustProxy: trustProxy(env.TRUST_PROXY, problems),
    maxConnectionsPerIp: read.int('MAX_CONNECTIONS_PER_IP', DEFAULT_MAX_CONNECTIONS_PER_IP, 0, 10_000_000),
    maxClientMessagesPerSecond: read.number('MAX_CLIENT_MESSAGES_PER_SECOND', DEFAULT_MAX_CLIENT_MESSAGES_PER_SECOND, 0, 1_000_000),
    clientMessagesBurst: read.int('CLIENT_MESSAGES_BURST', DEFAULT_CLIENT_MESSAGES_BURST, 1, 10_000_000),
    publishRateLimit: read.number('PUBLISH_RATE_LIMIT', DEFAULT_PUBLISH_RATE_LIMIT, 0, 10_000_000),
    publishRateWindowSeconds: read.int('PUBLISH_RATE_WINDOW_SECONDS', DEFAULT_PUBLISH_RATE_WINDOW_SECONDS, 1, 3600),
    redisWaitReplicas: read.int('REDIS_WAIT_REPLICAS', 0, 0, 100),
    redisWaitTimeoutMs: read.int('REDIS_WAIT_TIMEOUT_MS', 1000, 1, 60_000),
    canaryIntervalSeconds: read.number('CANARY_INTERVAL_SECONDS', DEFAULT_CANARY_INTERVAL_SECONDS, 0, 3600),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

export type ServiceName = 'source-server' | 'client-server';

/**
 * PROTOCOL.md, Auth: each service needs its own credentials unless
 * AUTH_DISABLED=true. Returns the problem to report, or undefined.
 */
export function missingCredentials(config: Config, service: ServiceName): string | undefined {
  if (config.authDisabled) return undefined;
  if (service === 'source-server' && config.publisherKeys.length === 0) {
    return 'source-server needs publisher keys: set PUBLISHER_KEYS (comma separated) or PUBLISHER_KEYS_FILE, or AUTH_DISABLED=true for local development';
  }
  if (service === 'client-server' && config.subscriberJwtSecret === undefined) {
    return 'client-server needs SUBSCRIBER_JWT_SECRET (at least 32 characters) to verify subscriber tokens, or AUTH_DISABLED=true for local development';
  }
  return undefined;
}

function trustProxy(raw: string | undefined, problems: string[]): boolean | number | string[] {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const list = splitList(value);
  if (list.every((a) => /^[0-9a-f:.]+(\/\d{1,3})?$/.test(a))) return list;
  problems.push(`TRUST_PROXY must be true, false, a number of hops or proxy addresses/CIDRs, got "${raw}"`);
  return false;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw !== undefined && !/^\d+$/.test(raw)) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return this.number(name, fallback, min, max);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  }
}
