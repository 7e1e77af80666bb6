// Number formatting and the line every table of BENCHMARKS.md carries.
import { loadAverage } from './proc.js';

export const fmt = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');
export const kfmt = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')}` : '–');
export const kib = (bytes: number | undefined) => (bytes !== undefined && Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–');

/** Ratio of one value to another, as "0.42×". */
export function ratio(ours: number | undefined, theirs: number | undefined): string {
  return ours !== undefined && theirs ? `${fmt(ours / theirs, 2)}×` : '–';
}

/** "0.42× (target ≤ 0.30×: no)". */
export function ratioAgainst(ours: number | undefined, theirs: number | undefined, limit: number): string {
  if (ours === undefined || !theirs) return '–';
  const r = ours / theirs;
  return `${fmt(r, 2)}× (target ≤ ${fmt(limit, 2)}×: ${r <= limit ? 'met' : 'not met'})`;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Captured when a table's runs begin: the machine, how busy it was, and who else was on its cores. */
export interface TableConditions {
  machine: string;
  load: string;
}

export function conditionsNow(machine: string): TableConditions {
  return { machine, load: loadAverage() };
}

/** The sentence under every table heading. */
export function conditionsLine(c: TableConditions): string {
  return `_${c.machine}; load average ${c.load} (1/5/15 min) when these runs began; the load generators ran on the same cores as the servers and Redis._`;
}
