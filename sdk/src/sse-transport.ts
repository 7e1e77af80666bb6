/**
 * What the SSE client needs from a transport: open one request, report its
 * messages, report once how it ended. The client decides whether and when
 * to open the next one. Browsers use EventSource; Node uses fetch streaming.
 */
export interface SseRequest {
  /** The stream's URL, without credentials or cursor. */
  url: string;
  token?: string;
  /** The cursor to resume after (the last `id:` received). */
  lastEventId?: string;
}

export interface SseFailure {
  /** What went wrong, in words: a network error, the server's error message. */
  message: string;
  /** The HTTP status, when the server answered with an error. */
  status?: number;
  /** The PROTOCOL.md `error.code` of the answer's body. */
  code?: string;
  /** From `Retry-After`. */
  retryAfterMs?: number;
  /** True when retrying cannot help (the answer is not an event stream, or the runtime lacks what the transport needs). */
  final?: boolean;
}

export interface SseHandlers {
  open(): void;
  /** One dispatched message: its `event:` name ('message' by default), data, and the stream's last event id. */
  message(type: string, data: string, lastEventId: string): void;
  /** The transport is reconnecting by itself (EventSource after a network loss). */
  retrying(): void;
  /** The stream ended or could not open; called at most once, never after close(). */
  end(failure: SseFailure): void;
}

export type SseTransport = (request: SseRequest, handlers: SseHandlers) => { close(): void };
