/** An open subscriber connection, as the drain and the heartbeat see it. */
export interface Connection {
  /** Sends a keep-alive (a WebSocket ping, an SSE comment); drops a peer that missed the previous ones. */
  heartbeat(): void;
  /** Closes with 1001 (WebSocket) or ends the stream (SSE); the client resumes with since. */
  goAway(): void;
  /** Resolves once the connection is fully closed. */
  readonly closed: Promise<void>;
}

/**
 * Every open connection of one client-server, with one heartbeat timer for
 * all of them instead of one per connection.
 */
export class Connections {
  private readonly open = new Set<Connection>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly heartbeatMs: number) {}

  get size(): number {
    return this.open.size;
  }

  add(connection: Connection): void {
    this.open.add(connection);
    void connection.closed.then(() => this.open.delete(connection));
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const c of this.open) c.heartbeat();
      }, this.heartbeatMs).unref();
    }
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
    await Promise.all(all.map((c) => c.closed));
    timers.forEach(clearTimeout);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
