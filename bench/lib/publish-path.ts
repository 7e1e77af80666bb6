// The publishing side alone: what one publish costs the publishing process
// (eventrelay's source-server, the floor's publisher) and Redis, at a fixed
// moderate rate (lib/load's publisher) and at saturation (autocannon).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { forkChild, nextMessage } from './children.js';
import type { PublisherJob, PublisherResult } from './ipc.js';
import { cpuMicros, totalCpuMicros } from './proc.js';
import { ROOT, type RunningTarget } from './targets.js';

export interface PublishPathResult {
  /** Default eventrelay (older reports had only it). */
  target?: string;
  mode: 'single' | 'batch' | 'fixed';
  connections: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** The publishing process's CPU per accepted event, µs. */
  cpuPerPublish?: number;
  /** Redis's CPU per accepted event, µs. */
  redisCpuPerPublish?: number;
  /** The publishing process's CPU in % of one core. */
  publisherCpu?: number;
}

/** Events per batch request: a realistic producer-side buffer, well under MAX_BATCH_EVENTS. */
export const BATCH_EVENTS = 100;
/** Connections autocannon keeps busy for single publishes: enough to saturate one process on this machine. */
const SINGLE_CONNECTIONS = 50;
const BATCH_CONNECTIONS = 10;

const channelPath = (target: RunningTarget, channel: string) =>
  target.kind === 'eventrelay' ? `/v1/channels/${channel}/events` : `/c/${channel}`;

/** Drives one publishing process with autocannon (its own process, so that it does not share the orchestrator's loop). */
export async function publishPath(target: RunningTarget, mode: 'single' | 'batch', seconds: number, dataBytes: number): Promise<PublishPathResult> {
  if (mode === 'batch' && target.kind !== 'eventrelay') throw new Error('only eventrelay has a batch endpoint');
  const data = JSON.stringify({ p: 'x'.repeat(Math.max(1, dataBytes - 8)) });
  const connections = mode === 'single' ? SINGLE_CONNECTIONS : BATCH_CONNECTIONS;
  const url = `${target.publishUrl}${mode === 'single' ? channelPath(target, 'bench-path') : '/v1/events'}`;
  const body =
    mode === 'single'
      ? data
      : `{"events":[${Array.from({ length: BATCH_EVENTS }, (_, i) => `{"channel":"bench-path-${i % 10}","data":${data}}`).join(',')}]}`;
  const args = [
    join(ROOT, 'node_modules/autocannon/autocannon.js'),
    '--json', '-m', 'POST', '-c', String(connections), '-d', String(seconds),
    '-H', 'content-type=application/json',
    ...(target.key ? ['-H', `authorization=Bearer ${target.key}`] : []),
    '-b', body, url,
  ];
  const cpu0 = cpuMicros(target.publisherPid);
  const redis0 = totalCpuMicros(target.redisPids);
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`autocannon exited with ${code}`))));
  });
  const wallUs = (performance.now() - started) * 1000;
  const cpu = cpuMicros(target.publisherPid) - cpu0;
  const redis = totalCpuMicros(target.redisPids) - redis0;
  const result = JSON.parse(output) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number; '2xx': number };
  const rps = result.requests.average;
  const events = result['2xx'] * (mode === 'single' ? 1 : BATCH_EVENTS);
  return {
    target: target.kind,
    mode,
    connections,
    requestsPerSecond: rps,
    eventsPerSecond: mode === 'single' ? rps : rps * BATCH_EVENTS,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuPerPublish: events > 0 ? cpu / events : undefined,
    redisCpuPerPublish: events > 0 ? redis / events : undefined,
    publisherCpu: (cpu / wallUs) * 100,
  };
}

/** Publishes `rate` events/s over 10 channels with nobody subscribed, and accounts the publishing side's CPU in the window. */
export async function publishAtRate(target: RunningTarget, rate: number, seconds: number, dataBytes: number): Promise<PublishPathResult> {
  const job: PublisherJob = {
    target: target.kind, url: target.publishUrl, key: target.key, channels: 10, rate,
    warmupSeconds: 1, seconds, dataBytes, payload: 'padding',
  };
  const publisher = forkChild('bench/load/publisher.ts', job);
  await nextMessage(publisher, 'marked');
  const cpu0 = cpuMicros(target.publisherPid);
  const redis0 = totalCpuMicros(target.redisPids);
  const done = await nextMessage<PublisherResult>(publisher, 'done');
  const cpu = cpuMicros(target.publisherPid) - cpu0;
  const redis = totalCpuMicros(target.redisPids) - redis0;
  const events = done.acceptedInWindow;
  return {
    target: target.kind,
    mode: 'fixed',
    connections: job.channels,
    requestsPerSecond: done.achievedRate,
    eventsPerSecond: done.achievedRate,
    p99Ms: NaN,
    non2xx: done.failed,
    errors: 0,
    cpuPerPublish: events > 0 ? cpu / events : undefined,
    redisCpuPerPublish: events > 0 ? redis / events : undefined,
    publisherCpu: (cpu / (seconds * 1_000_000)) * 100,
  };
}
