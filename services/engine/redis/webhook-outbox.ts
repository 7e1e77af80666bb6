import type { Cluster, Redis } from 'ioredis';
import type { Lost, OutboxBatch, OutboxStore } from '../webhooks/outbox-store.js';
import {
  OUTBOX_INDEX_KEY,
  OUTBOX_REPAIR_KEY,
  OUTBOX_SCAN_PATTERN,
  channelOfOutboxKey,
  outboxKey,
  outboxLeaseKey,
  outboxStateKey,
} from './keys.js';
import type { RedisClient } from './connections.js';
import { HAS_WORK_SCRIPT, LEASE_SCRIPT, NEXT_SCRIPT, RELEASE_SCRIPT, RESCHEDULE_SCRIPT, SETTLE_SCRIPT } from './scripts/webhook-scripts.js';

/** Keys per SCAN step of the repair: large enough to be quick, small enough not to block Redis. */
const SCAN_COUNT = 1000;
/** Channels whose oldest entry the queue-age gauge reads; past it the gauge is a sample of the longest-waiting. */
const QUEUE_AGE_SAMPLE = 1000;

const SCRIPTS = {
  eventrelayWebhookLease: { lua: LEASE_SCRIPT, numberOfKeys: 1 },
  eventrelayWebhookRelease: { lua: RELEASE_SCRIPT, numberOfKeys: 1 },
  eventrelayWebhookNext: { lua: NEXT_SCRIPT, numberOfKeys: 3 },
  eventrelayWebhookSettle: { lua: SETTLE_SCRIPT, numberOfKeys: 3 },
  eventrelayWebhookReschedule: { lua: RESCHEDULE_SCRIPT, numberOfKeys: 2 },
  eventrelayWebhookHasWork: { lua: HAS_WORK_SCRIPT, numberOfKeys: 2 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

/**
 * The webhook outboxes in Redis (keys.ts): per channel a stream appended by
 * whichever script detected the transition, the dispatchers' work list
 * OUTBOX_INDEX_KEY (score: when the channel is due), and the lease and
 * delivery state of scripts/webhook-scripts.ts. Every script touches one
 * channel's slot; the work list is only ever written by its own commands.
 */
export class RedisOutboxStore implements OutboxStore {
  constructor(private readonly redis: RedisClient) {
    // Defining again is harmless; ioredis falls back from EVALSHA to EVAL after a Redis restart.
    for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
  }

  async pending(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(OUTBOX_INDEX_KEY, '-inf', now, 'LIMIT', 0, limit);
  }

  async acquire(channel: string, owner: string, ttlMs: number): Promise<number> {
    return Number(await this.run('eventrelayWebhookLease', [outboxLeaseKey(channel)], [owner, String(ttlMs)]));
  }

  async release(channel: string, owner: string): Promise<void> {
    await this.run('eventrelayWebhookRelease', [outboxLeaseKey(channel)], [owner]);
  }

  async next(channel: string, owner: string, receiver: string, newId: string, now: number, max: { maxEvents: number; maxBytes: number }): Promise<OutboxBatch | 'idle' | Lost> {
    const reply = (await this.run('eventrelayWebhookNext', this.channelKeys(channel), [
      owner, receiver, newId, String(now), String(max.maxEvents), String(max.maxBytes),
    ])) as string[];
    if (reply[0] === 'lost' || reply[0] === 'idle') return reply[0];
    const [id, time, first, , attempts, due] = reply[1]!.split(' ') as [string, string, string, string, string, string];
    const events: string[] = [];
    for (let i = 3; i < reply.length; i += 2) if (reply[i]) events.push(reply[i]!);
    return { id, time: Number(time), attempts: Number(attempts), due: Number(due), events, oldest: idMs(first) };
  }

  async settle(channel: string, owner: string, receiver: string, batchId: string, receivers: readonly string[]): Promise<void | Lost> {
    const reply = (await this.run('eventrelayWebhookSettle', this.channelKeys(channel), [owner, receiver, batchId, ...receivers])) as string[];
    if (reply[0] === 'lost') return 'lost';
  }

  async reschedule(channel: string, owner: string, receiver: string, batchId: string, attempts: number, due: number): Promise<void | Lost> {
    const keys = [outboxLeaseKey(channel), outboxStateKey(channel)];
    const reply = (await this.run('eventrelayWebhookReschedule', keys, [owner, receiver, batchId, String(attempts), String(due)])) as string[];
    if (reply[0] === 'lost') return 'lost';
  }

  async hasWork(channel: string, receivers: readonly string[], now: number): Promise<boolean> {
    return Number(await this.run('eventrelayWebhookHasWork', [outboxKey(channel), outboxStateKey(channel)], [String(now), ...receivers])) === 1;
  }

  async park(channel: string, at: number): Promise<void> {
    await this.redis.zadd(OUTBOX_INDEX_KEY, at, channel);
  }

  async unmark(channel: string): Promise<void> {
    await this.redis.zrem(OUTBOX_INDEX_KEY, channel);
  }

  /**
   * One replica per interval (whoever sets OUTBOX_REPAIR_KEY first) SCANs for
   * outbox streams and adds those off the work list, due now; NX keeps the
   * due time of a channel parked for a retry. On a Cluster a SCAN sees one
   * node's keys, so it runs on every master.
   */
  async repair(owner: string, intervalMs: number): Promise<number> {
    if ((await this.redis.set(OUTBOX_REPAIR_KEY, owner, 'PX', intervalMs, 'NX')) !== 'OK') return 0;
    const nodes: Redis[] = this.redis.isCluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
    let found = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', OUTBOX_SCAN_PATTERN, 'COUNT', String(SCAN_COUNT), 'TYPE', 'stream');
        cursor = next;
        const channels = keys.map(channelOfOutboxKey).filter((c): c is string => c !== undefined);
        const now = Date.now();
        if (channels.length > 0) found += await this.redis.zadd(OUTBOX_INDEX_KEY, 'NX', ...channels.flatMap((c) => [now, c]));
      } while (cursor !== '0');
    }
    return found;
  }

  async oldest(): Promise<number | undefined> {
    const channels = await this.redis.zrange(OUTBOX_INDEX_KEY, '0', String(QUEUE_AGE_SAMPLE - 1));
    const firsts = await Promise.all(channels.map((c) => this.redis.xrange(outboxKey(c), '-', '+', 'COUNT', 1)));
    let oldest: number | undefined;
    for (const entries of firsts) {
      const id = entries[0]?.[0];
      if (id !== undefined && (oldest === undefined || idMs(id) < oldest)) oldest = idMs(id);
    }
    return oldest;
  }

  private channelKeys(channel: string): string[] {
    return [outboxLeaseKey(channel), outboxKey(channel), outboxStateKey(channel)];
  }

  private run(name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    const call = (this.redis as unknown as Record<ScriptName, (...a: string[]) => Promise<unknown>>)[name];
    return call.call(this.redis, ...keys, ...args);
  }
}

/** The ms part of a stream id: when the entry was appended. */
function idMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
