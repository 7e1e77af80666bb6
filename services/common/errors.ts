/**
 * Every error a user can see carries a stable code from PROTOCOL.md.
 * Tests assert on `code`; `message` is a human sentence and may change.
 */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_channel'
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'already_subscribed'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_channel: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  already_subscribed: 409,
  internal: 500,
};

export interface RelayErrorOptions {
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  retryAfter?: number;
  /** Position of the first bad event in a batch. */
  index?: number;
  /** The channel the error concerns (WebSocket errors carry it). */
  channel?: string;
  cause?: unknown;
}

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter?: number;
  readonly index?: number;
  readonly channel?: string;

  constructor(code: ErrorCode, message: string, options: RelayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    this.status = STATUS[code];
    this.retryAfter = options.retryAfter;
    this.index = options.index;
    this.channel = options.channel;
  }
}

/** The HTTP body of an error: `{"error":{"code","message"[,"index"]}}`. */
export function errorBody(err: RelayError): { error: { code: ErrorCode; message: string; index?: number } } {
  const error: { code: ErrorCode; message: string; index?: number } = { code: err.code, message: err.message };
  if (err.index !== undefined) error.index = err.index;
  return { error };
}

export function isRelayError(err: unknown): err is RelayError {
  return err instanceof RelayError;
}
