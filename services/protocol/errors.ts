/**
 * Every error a user can see, as one table of code → HTTP status → default
 * message (the shape of fastify's `lib/errors.js` createError). Codes are
 * PROTOCOL.md's and stable: tests assert on `code`; `message` is a human
 * sentence and may change. Call sites pass a message only when they know more
 * than the default (which limit, which field).
 */
export const ERRORS = {
  invalid_json: { status: 400, message: 'The body or frame is not valid JSON.' },
  invalid_channel: { status: 400, message: 'A channel name is 1 to 128 characters of A-Z, a-z, 0-9, "_", "-", "." and ":".' },
  invalid_request: { status: 400, message: 'The request is malformed.' },
  unauthorized: { status: 401, message: 'Missing or bad credentials.' },
  forbidden: { status: 403, message: 'Your token does not allow this channel.' },
  not_found: { status: 404, message: 'No such endpoint. See PROTOCOL.md for the endpoints.' },
  payload_too_large: { status: 413, message: 'The request body is larger than this server accepts.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  rate_limited: { status: 429, message: 'Too many requests; retry after the Retry-After seconds.' },
  unavailable: { status: 503, message: 'The relay cannot reach its event store right now; retry shortly.' },
  // WebSocket only: never an HTTP status of its own, but the table needs one.
  already_subscribed: { status: 409, message: 'This connection is already subscribed to the channel.' },
  internal: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Seconds a client is told to wait (Retry-After) when the relay is draining or
 * its store is unreachable: long enough not to spin, short enough that a
 * blip costs a producer one second.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * What became of one event of a publish that stored only some of its events
 * (a batch over several Redis Cluster slots, or replicas that did not
 * confirm in time). An `id` means stored; an `error` means publish it again
 * (with its Idempotency-Key, so that a stored one is not stored twice); both
 * mean stored on the primary but not confirmed by REDIS_WAIT_REPLICAS replicas.
 */
export interface EventOutcome {
  channel: string;
  id?: string;
  replayed?: true;
  error?: { code: ErrorCode; message: string };
}

export interface RelayErrorOptions {
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  retryAfter?: number;
  /** Position of the first bad event in a batch. */
  index?: number;
  /** The channel the error concerns (WebSocket errors carry it). */
  channel?: string;
  /** Per event of the request, in request order: a response never hides a stored event (PROTOCOL.md). */
  results?: EventOutcome[];
  cause?: unknown;
}

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter?: number;
  readonly index?: number;
  readonly channel?: string;
  readonly results?: EventOutcome[];

  constructor(code: ErrorCode, message: string = ERRORS[code].message, options: RelayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    this.status = ERRORS[code].status;
    // 503 always tells the client when to come back (PROTOCOL.md).
    this.retryAfter = options.retryAfter ?? (code === 'unavailable' ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
    this.index = options.index;
    this.channel = options.channel;
    this.results = options.results;
  }

  /** The same error about `channel` (WebSocket errors name the channel they concern). */
  withChannel(channel: string): RelayError {
    return new RelayError(this.code, this.message, { retryAfter: this.retryAfter, index: this.index, channel, cause: this.cause });
  }
}

/** The one wording of "this instance is shutting down" (HTTP refusals, readiness, SSE). */
export function drainingError(): RelayError {
  return new RelayError('unavailable', 'The server is draining for shutdown; retry on another instance.');
}

/** The HTTP body of an error: `{"error":{"code","message"[,"index"]}[,"results":[...]]}`. */
export function errorBody(err: RelayError): { error: { code: ErrorCode; message: string; index?: number }; results?: EventOutcome[] } {
  const error: { code: ErrorCode; message: string; index?: number } = { code: err.code, message: err.message };
  if (err.index !== undefined) error.index = err.index;
  return err.results === undefined ? { error } : { error, results: err.results };
}

export function isRelayError(err: unknown): err is RelayError {
  return err instanceof RelayError;
}
