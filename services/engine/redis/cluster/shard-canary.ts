import { CanaryCount } from '../canary.js';

/**
 * The canary of one Redis Cluster shard (canary.ts explains the idea for one
 * Redis, and counts for both): every tick a numbered canary is SPUBLISHed
 * through the Cluster client on a topic whose slot that shard's master owns.
 * Its confirmation proves the master answers; with a receiving connection (a
 * client-server), the canary must also come back on that shard's pub/sub
 * connection, else after CANARY_MISSES_ALLOWED misses in a row the
 * connection is declared dead and the caller reconnects it.
 */
export class ShardCanary extends CanaryCount {
  /** The topic the canaries travel on: a slot the shard's master owns (placed by the owner, moved when the slot moves). */
  topic?: string;
  /** Whether the shard's pub/sub connection holds the SSUBSCRIBE of `topic`. */
  subscribed = false;
  private topicBuffer?: Buffer;

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
}
