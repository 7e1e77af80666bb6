/**
 * The `retry:` hint an SSE stream gets before the drain ends it (PROTOCOL.md:
 * a browser resumes an ended stream with Last-Event-ID). Without one, an
 * EventSource waits its own default (about 3 s in Chromium, 5 s in Firefox),
 * and every stream the drain closes in the same instant (DRAIN_WINDOW_SECONDS
 * of 0, or more streams than the window has milliseconds) comes back in the
 * same instant. With it, each browser comes back soon and at its own time.
 *
 * The bounds do not follow the drain window: once a stream is closed, this
 * process no longer listens (run-main.ts stops listening when the drain
 * starts), so when the browser returns concerns the replacement or another
 * replica, not how long this one takes to finish. A short window is where
 * the spread matters most.
 */

/** Soonest reconnect: a replacement on the same host gets a moment to bind, and no event loop takes the whole drain in one turn. */
export const DRAIN_RETRY_MIN_MS = 1000;
/** Latest reconnect: a user sees at most a few seconds' pause, and history (resume with Last-Event-ID) covers the events meanwhile. */
export const DRAIN_RETRY_MAX_MS = 5000;

/** A reconnect delay in ms, uniform in [DRAIN_RETRY_MIN_MS, DRAIN_RETRY_MAX_MS]. */
export function drainRetryMs(random: () => number = Math.random): number {
  return Math.round(DRAIN_RETRY_MIN_MS + random() * (DRAIN_RETRY_MAX_MS - DRAIN_RETRY_MIN_MS));
}
