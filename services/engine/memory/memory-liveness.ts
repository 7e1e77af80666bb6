import type { MemoryBroker } from './memory-broker.js';

/**
 * A replica's heartbeat on the broker, and the sweep that expires replicas
 * whose heartbeat stopped (a process that died without leaving): their
 * members and occupancy go, each last one a transition. Every live replica
 * sweeps; the broker's state makes a second sweep of the same replica a no-op.
 */
export class MemoryLiveness {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly broker: MemoryBroker,
    private readonly replica: string,
    private readonly ttlMs: number,
    private readonly expire: (replica: string) => void,
  ) {
    this.beat();
    // Three beats per TTL: one late beat never expires a live replica.
    this.timer = setInterval(() => {
      this.beat();
      this.sweep();
    }, ttlMs / 3).unref();
  }

  /** Stops beating without leaving: what a killed process leaves behind (tests). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Stops beating and forgets this replica (a clean shutdown; the caller left its channels first). */
  close(): void {
    this.stop();
    this.broker.replicas.delete(this.replica);
  }

  private beat(): void {
    this.broker.replicas.set(this.replica, this.broker.now());
  }

  private sweep(): void {
    const now = this.broker.now();
    for (const [replica, seen] of this.broker.replicas) {
      if (replica === this.replica || now - seen <= this.ttlMs) continue;
      this.broker.replicas.delete(replica);
      this.expire(replica);
    }
  }
}
