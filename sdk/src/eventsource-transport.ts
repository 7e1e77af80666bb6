import type { SseTransport } from './sse-transport.js';

/** The named events of PROTOCOL.md streams; unnamed ones are channel events. */
export const SSE_EVENT_NAMES = ['subscribed', 'join', 'leave', 'disconnected'] as const;

interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: string; lastEventId: string }) => void) | null;
  addEventListener(type: string, listener: (ev: { data: string; lastEventId: string }) => void): void;
  close(): void;
}

const CLOSED = 2;

/**
 * The browser's EventSource. It cannot send headers: the token goes in
 * `?token=` and a resume cursor in `?since=`. After a network loss it
 * reconnects by itself, resending the last `id:` as Last-Event-ID; when it
 * gives up (an HTTP error, which browsers do not expose), the stream ends
 * and the client opens a new one.
 */
export const eventSourceTransport: SseTransport = (request, handlers) => {
  const Source = (globalThis as { EventSource?: new (url: string) => EventSourceLike }).EventSource;
  if (!Source) {
    let closed = false;
    queueMicrotask(() => closed || handlers.end({ message: 'This runtime has no EventSource; use the Node entry of the SDK (fetch streaming).', final: true }));
    return { close: () => void (closed = true) };
  }
  const url = new URL(request.url);
  if (request.token !== undefined) url.searchParams.set('token', request.token);
  if (request.lastEventId !== undefined) url.searchParams.set('since', request.lastEventId);
  const source = new Source(url.toString());
  let ended = false;
  source.onopen = () => handlers.open();
  source.onmessage = (ev) => handlers.message('message', ev.data, ev.lastEventId);
  for (const name of SSE_EVENT_NAMES) source.addEventListener(name, (ev) => handlers.message(name, ev.data, ev.lastEventId));
  source.onerror = () => {
    if (ended) return;
    if (source.readyState !== CLOSED) return handlers.retrying();
    ended = true;
    handlers.end({ message: 'The stream was refused or ended (EventSource closed; the browser does not expose the HTTP status).' });
  };
  return {
    close() {
      ended = true;
      source.close();
    },
  };
};
