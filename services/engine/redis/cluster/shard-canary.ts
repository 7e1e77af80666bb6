import { CANARY_MISSES_ALLOWED } from '../canary.js';

/**
 * The canary of one Redis Cluster shard (canary.ts explains the idea for one
 * Redis): every tick a numbered canary is SPUBLISHed through the Cluster
 * client on a topic whose slot that shard's master owns. Its confirmation
 * proves the master answers; with a receiving connection (a client-server),
 * the canary must also come back on that shard's pub/sub connection, else
 * after CANARY_MISSES_ALLOWED misses in a row the connection is declared
 * dead and the caller reconnects it.
 */
export class ShardCanary {
  private sent = 0;
  private confirmed = 0;
  private received = 0;
  private publishing = false;
  private misses = 0;
  private dead = false;
  private commandProblem?: string;
  /** The topic the canaries travel on: a slot the shard's master owns (placed by the owner, moved when the slot moves). */
  topic?: string;
  /** Whether the shard's pub/sub connection holds the SSUBSCRIBE of `topic`. */
  subscribed = false;
  private topicBuffer?: Buffer;

  constructor(private readonly receives: boolean) {}

  /** Travels on `topic` from now on; returns the previous topic when it was subscribed (the caller SUNSUBSCRIBEs it). */
  moveTo(topic: string): string | undefined {
    const previous = this.subscribed ? this.topic : undefined;
    this.topic = topic;
    this.topicBuffer = Buffer.from(topic);
    this.subscribed = false;
    this.reset();
    return previous;
  }

  /** Whether a pub/sub message on `topic` is one of these canaries. */
  carries(topic: Buffer): boolean {
    return this.topicBuffer !== undefined && topic.equals(this.topicBuffer);
  }

  /** Why the shard cannot be trusted, or undefined while canaries go through. */
  problem(): string | undefined {
    if (this.dead) return `its subscriber connection missed ${this.misses} canaries in a row; reconnecting it`;
    if (this.commandProblem) return `its master did not answer the canary (${this.commandProblem})`;
    return undefined;
  }

  /** Forgets what is in flight: the connection is visibly down (its status says so) or the canary moved to another topic. */
  reset(): void {
    this.commandProblem = undefined;
    this.received = this.confirmed = this.sent;
  }

  /**
   * One period. `publish` sends canary `seq`; `onDead` is called when the
   * receiving connection missed too many (it should be destroyed). Returns
   * whether a canary was sent.
   */
  tick(publish: (seq: number) => Promise<unknown>, onDead: () => void, onMiss: (misses: number) => void): void {
    // Still waiting for Redis to answer the last one: commandTimeout will fail it.
    if (this.publishing) return;
    if (this.receives && this.confirmed === this.sent && this.received < this.sent) {
      this.misses++;
      onMiss(this.misses);
      if (this.misses >= CANARY_MISSES_ALLOWED) {
        this.dead = true;
        this.received = this.confirmed = this.sent;
        onDead();
        return;
      }
    }
    const seq = ++this.sent;
    this.publishing = true;
    publish(seq).then(
      () => {
        this.publishing = false;
        this.confirmed = seq;
        this.commandProblem = undefined;
      },
      (err: unknown) => {
        this.publishing = false;
        // Unconfirmed: its absence on the subscriber side proves nothing.
        this.received = this.confirmed = this.sent;
        this.commandProblem = err instanceof Error ? err.message : String(err);
      },
    );
  }

  /** A canary came back on the shard's pub/sub connection. Returns true when the connection had been declared dead. */
  arrived(seq: number): boolean {
    if (!(seq > this.received)) return false;
    this.received = seq;
    this.misses = 0;
    const wasDead = this.dead;
    this.dead = false;
    return wasDead;
  }
}
