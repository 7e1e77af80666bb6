/**
 * MAX_CONNECTIONS_PER_IP in this process: open subscriber connections
 * (WebSocket and SSE) per client address. It is checked first on every
 * connect (free, and a refusal here is a refusal anywhere); the count across
 * every client-server is the engine's (connection-limit.ts), and this one
 * alone applies in the embedded mode or while that count is unreachable.
 */
export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>();

  /** `max`: connections one address may hold; 0 is no limit. */
  constructor(private readonly max: number) {}

  /**
   * Takes a slot for `ip`. Returns the function that gives it back (safe to
   * call more than once), or undefined when the address is at its limit.
   */
  acquire(ip: string): (() => void) | undefined {
    if (this.max <= 0) return () => {};
    const count = this.counts.get(ip) ?? 0;
    if (count >= this.max) return undefined;
    this.counts.set(ip, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(ip) ?? 1) - 1;
      // Deleted at zero, so the map holds only addresses with open connections.
      if (left <= 0) this.counts.delete(ip);
      else this.counts.set(ip, left);
    };
  }

  /** Open connections of `ip`. */
  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }

  /** Addresses with at least one open connection. */
  get addresses(): number {
    return this.counts.size;
  }
}
