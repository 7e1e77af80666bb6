/** A Pusher socket, as terminate_connections reaches it. */
export interface Terminable {
  terminate(): void;
}

/**
 * The sockets of this process signed in (`pusher:signin`) per app and user,
 * for `terminate_connections`: it closes signed-in sockets only, not those
 * that merely joined presence with that user id (pusher/docs
 * `terminating-user-connections.md`).
 */
export class SignedInUsers {
  private readonly byUser = new Map<string, Set<Terminable>>();

  add(appId: string, userId: string, socket: Terminable): void {
    const key = keyOf(appId, userId);
    let set = this.byUser.get(key);
    if (!set) this.byUser.set(key, (set = new Set()));
    set.add(socket);
  }

  remove(appId: string, userId: string, socket: Terminable): void {
    const key = keyOf(appId, userId);
    const set = this.byUser.get(key);
    if (!set?.delete(socket) || set.size > 0) return;
    this.byUser.delete(key);
  }

  /** Terminates every socket of the user here; returns how many. */
  terminate(appId: string, userId: string): number {
    const set = this.byUser.get(keyOf(appId, userId));
    if (!set) return 0;
    const sockets = [...set];
    for (const socket of sockets) socket.terminate();
    return sockets.length;
  }
}

function keyOf(appId: string, userId: string): string {
  // App ids cannot contain "\n" (APP_ID_PATTERN), so the pair is unambiguous.
  return `${appId}\n${userId}`;
}
