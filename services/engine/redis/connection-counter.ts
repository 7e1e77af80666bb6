import { createHash } from 'node:crypto';
import type { ConnectionCounter } from '../connection-counter.js';
import type { RedisClient } from './connections.js';
import { connectionCountKey, connectionLeaseKey } from './keys.js';
import { CONNECTION_ACQUIRE_SCRIPT, CONNECTION_RELEASE_SCRIPT, CONNECTION_RENEW_SCRIPT } from './scripts/connection-scripts.js';
import { scriptCommand } from './scripts.js';

type Script = ReturnType<typeof scriptCommand>;

/** Leases are renewed this many times per lease, so that one missed renewal (a blip) does not drop a live replica's count. */
const RENEWALS_PER_LEASE = 3;

export interface RedisConnectionCounterDeps {
  redis: RedisClient;
  replica: string;
  /** How long a dead replica's share keeps counting (PRESENCE_TTL_SECONDS × 1000). */
  leaseMs: number;
  onError(err: unknown): void;
}

/**
 * The shared per-address count in Redis (connection-counter.ts): per address
 * a hash of replica → connections and a lease per replica, changed by one
 * script per connect and per disconnect. Every lease/3 the replica writes its
 * true count for each address it holds connections from, which renews the
 * lease and heals releases that never reached Redis.
 */
export class RedisConnectionCounter implements ConnectionCounter {
  private readonly acquireScript: Script;
  private readonly releaseScript: Script;
  private readonly renewScript: Script;
  /** Connections this replica holds, by address digest. */
  private readonly mine = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: RedisConnectionCounterDeps) {
    this.acquireScript = scriptCommand(deps.redis, 'eventrelayConnectionAcquire', CONNECTION_ACQUIRE_SCRIPT, 2);
    this.releaseScript = scriptCommand(deps.redis, 'eventrelayConnectionRelease', CONNECTION_RELEASE_SCRIPT, 2);
    this.renewScript = scriptCommand(deps.redis, 'eventrelayConnectionRenew', CONNECTION_RENEW_SCRIPT, 2);
    this.timer = setInterval(() => void this.renew(), deps.leaseMs / RENEWALS_PER_LEASE).unref();
  }

  async acquire(ip: string, max: number): Promise<(() => void) | undefined> {
    const hash = digest(ip);
    const admitted = Number(await this.acquireScript(keysOf(hash), [this.deps.replica, max, this.deps.leaseMs]));
    if (admitted !== 1) return undefined;
    this.mine.set(hash, (this.mine.get(hash) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.mine.get(hash) ?? 1) - 1;
      if (left <= 0) this.mine.delete(hash);
      else this.mine.set(hash, left);
      // A release that does not reach Redis is healed by the next renewal (or the lease).
      this.releaseScript(keysOf(hash), [this.deps.replica]).catch(this.deps.onError);
    };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const renewals = [...this.mine].map(([hash, count]) => this.renewScript(keysOf(hash), [this.deps.replica, count, this.deps.leaseMs]));
    const failed = (await Promise.allSettled(renewals)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) this.deps.onError(failed.reason);
  }
}

function keysOf(hash: string): string[] {
  return [connectionCountKey(hash), connectionLeaseKey(hash)];
}

/** Addresses are personal data: Redis holds a digest, enough to tell them apart. */
function digest(ip: string): string {
  return createHash('sha256').update(ip).digest('base64url').slice(0, 22);
}
