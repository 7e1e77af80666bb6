import type { SocketLike } from './transport.js';

/** Most proxies drop a connection idle for 60 s; the server pings every 25 s, so 30 s of silence is suspicious. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** How long a ping may go unanswered before the connection is declared dead and replaced. */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;

/**
 * Sends `{"type":"ping"}` after `intervalMs` of silence and calls `dead`
 * when nothing at all arrives within `timeoutMs` after it: a dead TCP
 * connection may take minutes to report its close.
 */
export class Heartbeat {
  private lastMessageAt = 0;
  private pingTimer?: ReturnType<typeof setInterval>;
  private pongTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** Anything arrived: the connection is alive. */
  touch(): void {
    this.lastMessageAt = Date.now();
  }

  start(socket: SocketLike, dead: () => void): void {
    this.stop();
    this.touch();
    if (this.intervalMs <= 0) return;
    this.pingTimer = unref(
      setInterval(() => {
        if (Date.now() - this.lastMessageAt < this.intervalMs || this.pongTimer) return;
        const sentAt = Date.now();
        socket.send('{"type":"ping"}');
        this.pongTimer = unref(
          setTimeout(() => {
            this.pongTimer = undefined;
            if (this.lastMessageAt < sentAt) dead();
          }, this.timeoutMs),
        );
      }, this.intervalMs),
    );
  }

  stop(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }
}

export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
