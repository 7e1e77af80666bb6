import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryReport } from './resuming-subscriber.js';
import type { Fleet, FleetSubscriber } from './fault-fleet.js';
import type { RetryingPublisher } from './publisher.js';

/** Rows of this run, one JSON line per scenario; global-setup.ts renders them into RELIABILITY.md. */
export const RESULTS_FILE = join(tmpdir(), 'eventrelay-faults-results.jsonl');

export interface Row {
  /** Sort key and first column, e.g. "1a". */
  id: string;
  scenario: string;
  load: string;
  faults: string;
  published: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** `subscribed` replies with recovered:false. */
  recoveredFalse: number;
  /** Lost events no recovered:false told the subscriber about. Must be 0 everywhere. */
  silentGaps: number;
  peakReconnectsPerSecond: number;
  /** 503 answers the publishers got (each retried with its Idempotency-Key). */
  unavailable?: number;
  /** From the fault until every service was ready and every channel's publisher acknowledged again, ms. */
  recoverMs?: number;
  /** Events answered 200 that Redis no longer held afterwards (asynchronous replication to a promoted replica). */
  replicationLost?: number;
  notes: string;
}

export function recordRow(row: Row): void {
  appendFileSync(RESULTS_FILE, JSON.stringify(row) + '\n');
}

export interface Tally {
  published: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  silentGaps: number;
  /** Subscribers with at least one lost event. */
  subscribersWithLoss: number;
}

/** Delivery figures of every subscriber against the acknowledged events of its channel. */
export function tally(publishers: RetryingPublisher[], subscribers: FleetSubscriber[], acknowledged = (p: RetryingPublisher) => p.acknowledged): Tally {
  const acked = new Map(publishers.map((p) => [p.channel, acknowledged(p)]));
  const total: Tally = { published: 0, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, silentGaps: 0, subscribersWithLoss: 0 };
  for (const p of publishers) total.published += p.acknowledged.length;
  for (const s of subscribers) {
    const ids = acked.get(s.channel) ?? [];
    const r = deliveryReport(ids, s.received);
    total.delivered += r.delivered;
    total.lost += r.lost;
    total.duplicated += r.duplicated;
    total.outOfOrder += r.outOfOrder;
    if (r.lost > 0) total.subscribersWithLoss++;
    total.silentGaps += silentGaps(ids, s);
  }
  return total;
}

/**
 * Lost events the subscriber was not told about. A lost event is told when
 * the subscriber resumed from the last event it had before it (`since`) and
 * was answered recovered:false: it knows to reload its state.
 */
export function silentGaps(acknowledged: readonly string[], s: FleetSubscriber): number {
  const received = new Set(s.received);
  const toldSince = new Set(s.resumes.filter((r) => !r.recovered && r.since !== undefined).map((r) => r.since));
  let previous: string | undefined;
  let silent = 0;
  // acknowledged is in publish order, which is id order per channel.
  for (const id of acknowledged) {
    if (received.has(id)) previous = id;
    else if (previous === undefined || !toldSince.has(previous)) silent++;
  }
  return silent;
}

export function subscribersOf(fleet: Fleet, predicate: (s: FleetSubscriber) => boolean = () => true): FleetSubscriber[] {
  return fleet.subscribers.filter(predicate);
}
