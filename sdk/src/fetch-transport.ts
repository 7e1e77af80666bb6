import { describeNetworkError } from './network-error.js';
import { SseParser } from './sse-parser.js';
import type { SseFailure, SseTransport } from './sse-transport.js';

/** Three missed server pings (HEARTBEAT_SECONDS, default 25) and a margin: the stream is dead, open a new one. */
export const DEFAULT_SSE_IDLE_TIMEOUT_MS = 90_000;
/** Enough for any PROTOCOL.md error body; a proxy's error page is cut. */
const MAX_ERROR_BODY_CHARS = 4096;

export interface FetchTransportOptions {
  /** Reconnect when nothing (not even a `: ping`) arrives for this long; 0 turns it off. Default 90000. */
  idleTimeoutMs?: number;
}

/**
 * SSE over fetch streaming (Node 18+, also browsers): sends the token as
 * `Authorization: Bearer` and the cursor as `Last-Event-ID`, and sees the
 * HTTP status and body of a refusal, which EventSource cannot.
 */
export function fetchSseTransport(options: FetchTransportOptions = {}): SseTransport {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_SSE_IDLE_TIMEOUT_MS;
  return (request, handlers) => {
    const abort = new AbortController();
    let done = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const end = (failure: SseFailure) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      abort.abort();
      handlers.end(failure);
    };
    const alive = () => {
      clearTimeout(idle);
      if (idleTimeoutMs > 0) idle = setTimeout(() => end({ message: `nothing arrived for ${idleTimeoutMs} ms` }), idleTimeoutMs);
    };
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    if (request.lastEventId !== undefined) headers['last-event-id'] = request.lastEventId;

    void (async () => {
      let response: Response;
      try {
        response = await fetch(request.url, { headers, signal: abort.signal });
      } catch (err) {
        return end({ message: describeNetworkError(err) });
      }
      if (!response.ok) return end(await refusal(response));
      if (!/^text\/event-stream/i.test(response.headers.get('content-type') ?? '') || !response.body) {
        void response.body?.cancel();
        return end({ message: `the answer is not an event stream (HTTP ${response.status}, ${response.headers.get('content-type') ?? 'no content type'})`, status: response.status, final: true });
      }
      handlers.open();
      alive();
      const parser = new SseParser((type, data, lastEventId) => done || handlers.message(type, data, lastEventId));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done: finished } = await reader.read();
          if (finished) break;
          alive();
          parser.push(value);
        }
        end({ message: 'the server ended the stream' });
      } catch (err) {
        end({ message: describeNetworkError(err) });
      }
    })();

    return {
      close() {
        done = true;
        clearTimeout(idle);
        abort.abort();
      },
    };
  };
}

/** The coded PROTOCOL.md error of a refused request, with Retry-After. */
async function refusal(response: Response): Promise<SseFailure> {
  const failure: SseFailure = { status: response.status, message: `HTTP ${response.status}` };
  const retryAfter = Number(response.headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) failure.retryAfterMs = retryAfter * 1000;
  const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY_CHARS);
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') failure.code = body.error.code;
    if (typeof body.error?.message === 'string') failure.message = body.error.message;
  } catch {
    // A proxy's error page: its first words, on one line.
    const words = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    if (words) failure.message = `HTTP ${response.status}: ${words.slice(0, 120)}`;
  }
  return failure;
}
