import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { ErrorCode } from '../../services/protocol/errors.js';

/**
 * Shared by the fuzz suites. FUZZ_RUNS is the total number of malformed
 * inputs across all suites (npm run test:fuzz sets 100000); `npm test` runs
 * a short default so that it stays a few seconds.
 */
export const DEFAULT_FUZZ_RUNS = 5000;

export function fuzzRuns(share: number): number {
  const raw = process.env.FUZZ_RUNS;
  const total = raw === undefined || raw === '' ? DEFAULT_FUZZ_RUNS : Number(raw);
  if (!Number.isInteger(total) || total < 1) throw new Error(`FUZZ_RUNS must be a positive whole number, got "${raw}"`);
  return Math.max(1, Math.round(total * share));
}

/** A fixed seed unless FUZZ_SEED says otherwise, so that a failure can be replayed; fast-check prints the seed and path. */
export function fuzzSeed(): number | undefined {
  return process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
}

/**
 * The garbage collector, without --expose-gc on the command line: the flag
 * may be set at run time, and a fresh context then sees `gc`. Lets the
 * memory bound be checked in `npm test` too, under the shared vitest config.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** PROTOCOL.md, Errors: the status of each code a client may see. */
export const PROTOCOL_STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_channel: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
};

/** Codes a WebSocket `error` message may carry (PROTOCOL.md, plus already_subscribed from the precise rules, and v1.1 publish's payload_too_large). */
export const WS_ERROR_CODES = new Set(['invalid_json', 'invalid_request', 'invalid_channel', 'forbidden', 'already_subscribed', 'rate_limited', 'unavailable', 'payload_too_large']);

export const MiB = 1024 * 1024;

/** A fuzz test's time budget: generous per input (2 cores shared with other suites), never below vitest's default. */
export function timeoutFor(runs: number): number {
  return Math.max(30_000, runs * 3);
}
