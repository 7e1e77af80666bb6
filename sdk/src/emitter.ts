/** A typed listener registry; a dozen lines instead of a dependency. */
export class Emitter<Events extends Record<string, (arg: never) => void>> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Events[K]): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  protected emit<K extends keyof Events>(name: K, arg: Parameters<Events[K]>[0]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      // A throwing listener must not break the connection loop or the other listeners.
      try {
        (listener as (a: typeof arg) => void)(arg);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
