/**
 * One webhook being delivered to one receiver: a run of consecutive
 * transitions of one channel, made once and kept (persisted with the outbox)
 * until its receiver answered 2xx or it was given up, so that every attempt,
 * by whichever dispatcher, sends the identical body.
 */
export interface OutboxBatch {
  /** The body's `id`: the same on every attempt. */
  id: string;
  /** When the batch was made (ms): the body's `time`, and where the give-up clock starts. */
  time: number;
  /** Attempts that failed so far (0 for a batch never sent). */
  attempts: number;
  /** When the next attempt is due (ms). */
  due: number;
  /** The transitions' JSON texts (engine/outbox.ts `transitionJson`), in outbox order. */
  events: string[];
  /** When the first of them was appended (ms). */
  oldest: number;
}

/** The dispatcher lost its lease on the channel (another took it over): it must stop writing. */
export type Lost = 'lost';

/**
 * What a webhook dispatcher (dispatcher.ts) needs of a broker's outboxes: the
 * work list, a lease per channel, and per channel and receiver a cursor (what
 * was delivered) and at most one batch in flight. The memory broker's is
 * memory-outbox.ts, Redis's is engine/redis/webhook-outbox.ts; both pass
 * test/engine/webhooks-contract.ts.
 *
 * A `receiver` is a stable key of one webhook URL (dispatcher.ts makes it):
 * each URL is its own stream. `owner` identifies one dispatcher. Every call
 * that writes delivery state checks that `owner` still holds the channel's
 * lease, and answers `lost` when not, so that a dispatcher that stalled past
 * its lease cannot undo its successor's work.
 */
export interface OutboxStore {
  /** Channels whose outbox may hold work due by `now`, longest waiting first, at most `limit`. */
  pending(now: number, limit: number): Promise<string[]>;
  /**
   * Takes or renews the channel's lease for `ttlMs`: resolves 0 when `owner`
   * holds it, else how many ms the current holder's lease has left.
   */
  acquire(channel: string, owner: string, ttlMs: number): Promise<number>;
  /** Gives the lease up, if `owner` still holds it. */
  release(channel: string, owner: string): Promise<void>;
  /**
   * The receiver's batch in flight, or else a new one (with `newId`, made at
   * `now`, of at most `maxEvents` transitions and about `maxBytes`) of the
   * transitions after its cursor, persisted before it is returned; `idle`
   * when the receiver has everything.
   */
  next(channel: string, owner: string, receiver: string, newId: string, now: number, max: { maxEvents: number; maxBytes: number }): Promise<OutboxBatch | 'idle' | Lost>;
  /**
   * The batch is done (delivered or given up): the receiver's cursor passes it.
   * Transitions every one of `receivers` is past are dropped, and an outbox
   * left empty is deleted with its state.
   */
  settle(channel: string, owner: string, receiver: string, batchId: string, receivers: readonly string[]): Promise<void | Lost>;
  /** Records a failed attempt: `attempts` so far, the next one due at `due`. */
  reschedule(channel: string, owner: string, receiver: string, batchId: string, attempts: number, due: number): Promise<void | Lost>;
  /** Whether any of `receivers` has something due by `now` (the re-check after the channel left the work list). */
  hasWork(channel: string, receivers: readonly string[], now: number): Promise<boolean>;
  /** Puts the channel on the work list as due at `at` (the holder keeps others off while it works; a waiting retry). */
  park(channel: string, at: number): Promise<void>;
  /** Takes the channel off the work list (every receiver has everything: the caller re-checks after). */
  unmark(channel: string): Promise<void>;
  /**
   * Puts back on the work list outboxes that hold transitions but are not on
   * it (a writer that died between its script and its mark); resolves how
   * many. Deployment-wide work, so a store may let one replica do it per `intervalMs`.
   */
  repair(owner: string, intervalMs: number): Promise<number>;
  /** When the oldest transition not yet delivered to every receiver was appended (ms), or undefined when none is. */
  oldest(): Promise<number | undefined>;
}
