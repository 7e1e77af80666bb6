/**
 * Shutdown state shared by an app's routes: once draining, /readyz answers
 * 503, new publishes and connections are refused with `unavailable`, and the
 * publishes already in flight are awaited before the bus is closed.
 */
export class Lifecycle {
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  get isDraining(): boolean {
    return this.draining;
  }

  startDraining(): void {
    this.draining = true;
  }

  /** Runs `work` as an in-flight operation that shutdown waits for. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves when nothing tracked is running. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
