import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { BusEvent, BusHandler } from '../../services/engine/bus.js';

/** A BusHandler that remembers what it was given. */
export interface Recorder extends BusHandler {
  events: BusEvent[];
  gaps: string[];
  ids(): string[];
  /** The `data` of each event, parsed from its bytes. */
  data(): unknown[];
}

export function recorder(): Recorder {
  const events: BusEvent[] = [];
  const gaps: string[] = [];
  return {
    events,
    gaps,
    onEvent: (event) => void events.push(event),
    onGap: (channel) => void gaps.push(channel),
    ids: () => events.map((e) => e.id),
    data: () => events.map((e) => JSON.parse(e.data.toString()) as unknown),
  };
}

/** Waits until `check` holds; a condition that never holds fails with `what`, the test never asserts how long it took. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger whose lines are kept in memory, so that tests can read them instead of silencing them. */
export function sinkLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

let counter = 0;
/** A channel name no other test uses, so tests can share one Redis. */
export function freshChannel(label = 'c'): string {
  counter += 1;
  return `${label}:${process.pid}.${counter}.${Math.random().toString(36).slice(2, 8)}`;
}
