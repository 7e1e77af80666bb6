import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, type RunningTarget } from './targets.js';

export interface PublishPathResult {
  mode: 'single' | 'batch';
  connections: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** Events per batch request: a realistic producer-side buffer, well under MAX_BATCH_EVENTS. */
export const BATCH_EVENTS = 100;

/** Drives one source-server with autocannon (its own process, so that it does not share the orchestrator's loop). */
export async function publishPath(target: RunningTarget, mode: 'single' | 'batch', seconds: number, dataBytes: number): Promise<PublishPathResult> {
  const data = JSON.stringify({ p: 'x'.repeat(Math.max(1, dataBytes - 8)) });
  const connections = mode === 'single' ? 50 : 10;
  const url = mode === 'single' ? `${target.publishUrl}/v1/channels/bench-path/events` : `${target.publishUrl}/v1/events`;
  const body =
    mode === 'single'
      ? data
      : `{"events":[${Array.from({ length: BATCH_EVENTS }, (_, i) => `{"channel":"bench-path-${i % 10}","data":${data}}`).join(',')}]}`;
  const args = [
    join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '--json', '-m', 'POST', '-c', String(connections), '-d', String(seconds),
    '-H', 'content-type=application/json', '-H', `authorization=Bearer ${target.key}`,
    '-b', body, url,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`autocannon exited with ${code}`))));
  });
  const result = JSON.parse(output) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number };
  const rps = result.requests.average;
  return {
    mode,
    connections,
    requestsPerSecond: rps,
    eventsPerSecond: mode === 'single' ? rps : rps * BATCH_EVENTS,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
