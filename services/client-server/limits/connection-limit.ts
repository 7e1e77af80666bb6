import type { ConnectionCounter } from '../../engine/connection-counter.js';
import type { ConnectionsPerIp } from './connections-per-ip.js';

/**
 * MAX_CONNECTIONS_PER_IP as a connect sees it: this process's own count
 * first (free, and a refusal there is a refusal anywhere), then the count
 * across every client-server when the engine keeps one (Redis: one round
 * trip per connect). When that shared count cannot be reached the process's
 * own limit still holds: a Redis blip must not turn into refusing everyone,
 * and subscribing needs Redis anyway.
 */
export class ConnectionLimit {
  constructor(
    private readonly local: ConnectionsPerIp,
    private readonly max: number,
    private readonly shared: ConnectionCounter | undefined,
    private readonly onSharedError: (err: unknown) => void,
  ) {}

  /** A release function (safe to call more than once), or undefined when `ip` is at its limit. */
  async acquire(ip: string): Promise<(() => void) | undefined> {
    const releaseLocal = this.local.acquire(ip);
    if (!releaseLocal) return undefined;
    if (!this.shared || this.max <= 0) return releaseLocal;
    let releaseShared: (() => void) | undefined;
    try {
      releaseShared = await this.shared.acquire(ip, this.max);
    } catch (err) {
      this.onSharedError(err);
      return releaseLocal;
    }
    if (!releaseShared) {
      releaseLocal();
      return undefined;
    }
    const shared = releaseShared;
    return () => {
      releaseLocal();
      shared();
    };
  }
}
