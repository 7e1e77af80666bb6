/**
 * MAX_CONNECTIONS_PER_IP counted across every client-server that shares the
 * broker (an engine capability; the memory engine has none: its one process
 * is the whole deployment, and the client-server's own count suffices).
 *
 * Guarantees (test/engine/connection-counter.test.ts):
 * - `acquire` admits while the address holds fewer than `max` connections
 *   on all client-servers together; one broker round trip per connect and
 *   one per disconnect, whatever the number of connections.
 * - A client-server that died without releasing stops counting within its
 *   lease (PRESENCE_TTL_SECONDS): each replica's share of an address is a
 *   lease it renews while it holds connections there.
 */
export interface ConnectionCounter {
  /**
   * Takes a slot for `ip`. Resolves the function that gives it back (safe
   * to call more than once), or undefined when the address is at `max`.
   * Rejects when the broker cannot be reached (the caller decides; the
   * client-server then falls back to its own count).
   */
  acquire(ip: string, max: number): Promise<(() => void) | undefined>;
}
