/** Told by each connection when it has fully closed. */
export interface ConnectionRegistry {
  closed(connection: Connection): void;
}

/** An open subscriber connection, as the drain and the heartbeat see it. */
export interface Connection {
  /** Sends a keep-alive (a WebSocket ping, an SSE comment); drops a peer that missed the previous ones. */
  heartbeat(): void;
  /** Closes with 1001 (WebSocket) or ends the stream (SSE); the client resumes with since. */
  goAway(): void;
  /**
   * Called once by Connections.add: the connection calls `registry.closed(this)`
   * once it is fully closed (at once if it already is). A reference instead
   * of a `closed` promise per connection: an idle connection's memory is
   * what 20,000 of them cost.
   */
  track(registry: ConnectionRegistry): void;
}

/**
 * Every open connection of one client-server, with one heartbeat timer for
 * all of them instead of one per connection.
 */
export class Connections implements ConnectionRegistry {
  private readonly open = new Set<Connection>();
  private timer: NodeJS.Timeout | undefined;
  /** Resolves the drain once the last connection has closed. */
  private whenEmpty: (() => void) | undefined;

  constructor(private readonly heartbeatMs: number) {}

  get size(): number {
    return this.open.size;
  }

  add(connection: Connection): void {
    this.open.add(connection);
    connection.track(this);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const c of this.open) c.heartbeat();
      }, this.heartbeatMs).unref();
    }
  }

  closed(connection: Connection): void {
    if (!this.open.delete(connection)) return;
    if (this.open.size === 0) this.whenEmpty?.();
  }

  /**
   * Closes every connection, spread evenly over `windowMs`, so that
   * thousands of clients do not all reconnect (and resume) in the same
   * millisecond somewhere else.
   */
  async drain(windowMs: number): Promise<void> {
    const all = [...this.open];
    const step = all.length > 1 ? windowMs / all.length : 0;
    const timers: NodeJS.Timeout[] = [];
    all.forEach((c, i) => {
      if (i === 0 || step === 0) c.goAway();
      else timers.push(setTimeout(() => c.goAway(), i * step).unref());
    });
    if (this.open.size > 0) await new Promise<void>((resolve) => (this.whenEmpty = resolve));
    this.whenEmpty = undefined;
    timers.forEach(clearTimeout);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
