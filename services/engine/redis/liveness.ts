import type { Logger } from 'pino';
import type { RedisClient } from './connections.js';
import { REPLICAS_KEY, replicaChannelsKey, replicaSweepKey } from './keys.js';
import { DEAD_REPLICAS_SCRIPT, HEARTBEAT_SCRIPT } from './scripts/channel-scripts.js';
import { scriptCommand } from './scripts.js';

/** Beats per PRESENCE_TTL: two may be lost (a GC pause, a Redis blip) before the replica counts as dead. */
const BEATS_PER_TTL = 3;
/** How long a sweeper holds a dead replica's cleanup before another may take it over. */
const SWEEP_LEASE_MS = 60_000;

export interface LivenessDeps {
  redis: RedisClient;
  replica: string;
  logger: Logger;
  ttlMs: number;
  /** Cleans up after a dead replica in one channel (its members and occupancy); idempotent. */
  expire(replica: string, channel: string): Promise<void>;
  /** This replica was declared dead while alive (a long pause): it must register its state again. */
  revived(): Promise<void>;
}

/**
 * A replica's heartbeat in Redis (at Redis's clock), and the sweep that
 * cleans up after replicas whose heartbeat stopped for PRESENCE_TTL_SECONDS
 * (a process that died without leaving): every live replica sweeps, a lease
 * makes one of them do each dead replica, and the cleanup scripts make a
 * second pass a no-op. A dead replica is forgotten only after all its
 * channels are clean, so a sweeper dying halfway leaves the work to another.
 */
export class RedisLiveness {
  private readonly timer: NodeJS.Timeout;
  private readonly heartbeat: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  private readonly deadReplicas: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  private running = false;

  constructor(private readonly deps: LivenessDeps) {
    this.heartbeat = scriptCommand(deps.redis, 'eventrelayHeartbeat', HEARTBEAT_SCRIPT, 1);
    this.deadReplicas = scriptCommand(deps.redis, 'eventrelayDeadReplicas', DEAD_REPLICAS_SCRIPT, 1);
    this.timer = setInterval(() => void this.tick(), deps.ttlMs / BEATS_PER_TTL).unref();
    void this.tick();
  }

  /**
   * Resolves once this replica is in the live set. Presence and occupancy
   * await it before their first write: state of a replica nobody knows of
   * could never be cleaned up after it.
   */
  async registered(): Promise<void> {
    if (this.beaten) return;
    await this.heartbeat([REPLICAS_KEY], [this.deps.replica]);
    this.beaten = true;
  }

  /** Stops beating and sweeping. A clean shutdown also calls `forget` after leaving everything. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Removes this replica from the live set (after it vacated and left everything). */
  async forget(): Promise<void> {
    await this.deps.redis.zrem(REPLICAS_KEY, this.deps.replica);
    await this.deps.redis.del(replicaChannelsKey(this.deps.replica));
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const added = await this.heartbeat([REPLICAS_KEY], [this.deps.replica]);
      // Added again: another replica declared this one dead and cleaned up after it.
      if (Number(added) === 1 && this.beaten) {
        this.deps.logger.warn('this replica was taken for dead (no heartbeat for PRESENCE_TTL_SECONDS); registering its presence and channels again');
        await this.deps.revived();
      }
      this.beaten = true;
      await this.sweep();
    } catch (err) {
      this.deps.logger.debug({ err }, 'heartbeat or sweep failed; retrying at the next beat');
    } finally {
      this.running = false;
    }
  }

  private beaten = false;

  private async sweep(): Promise<void> {
    const { redis, replica } = this.deps;
    const dead = (await this.deadReplicas([REPLICAS_KEY], [this.deps.ttlMs])) as string[];
    for (const other of dead) {
      if (other === replica) continue;
      if ((await redis.set(replicaSweepKey(other), replica, 'PX', SWEEP_LEASE_MS, 'NX')) !== 'OK') continue;
      const channels = await redis.smembers(replicaChannelsKey(other));
      for (const channel of channels) await this.deps.expire(other, channel);
      this.deps.logger.info({ replica: other, channels: channels.length }, 'cleaned up after a replica that stopped without leaving');
      await redis.del(replicaChannelsKey(other));
      await redis.zrem(REPLICAS_KEY, other);
      await redis.del(replicaSweepKey(other));
    }
  }
}
