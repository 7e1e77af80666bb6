/** What an operator disconnect needs of a session. */
export interface Disconnectable {
  /** Closes with 4003 (PROTOCOL.md v1.1). */
  disconnect(): void;
}

/**
 * Open sessions per token `sub`, so that `POST /v1/users/{user}/disconnect`
 * (heard through Control) closes a user's connections without scanning
 * every connection of the process. Sessions without `sub` are not indexed.
 */
export class SessionsByUser {
  private readonly byUser = new Map<string, Set<Disconnectable>>();

  add(user: string, session: Disconnectable): void {
    let sessions = this.byUser.get(user);
    if (!sessions) this.byUser.set(user, (sessions = new Set()));
    sessions.add(session);
  }

  remove(user: string, session: Disconnectable): void {
    const sessions = this.byUser.get(user);
    if (!sessions?.delete(session)) return;
    // Deleted when empty, so the map holds only users with open connections.
    if (sessions.size === 0) this.byUser.delete(user);
  }

  /** Closes every session of `user`; returns how many. */
  disconnect(user: string): number {
    const sessions = [...(this.byUser.get(user) ?? [])];
    for (const session of sessions) session.disconnect();
    return sessions.length;
  }

  /** Users with at least one open session. */
  get size(): number {
    return this.byUser.size;
  }
}
