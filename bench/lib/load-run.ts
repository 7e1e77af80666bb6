import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { FromSubscribers, PublisherJob, PublisherResult, SubscriberJob, SubscriberResult } from './ipc.js';
import { rssBytes, totalCpuMicros } from './proc.js';
import { ROOT, type RunningTarget } from './targets.js';

export interface LoadOptions {
  subscribers: number;
  channels: number;
  /** Deliveries per second asked for: events/s × subscribers per channel. */
  deliveriesPerSecond: number;
  seconds: number;
  warmupSeconds: number;
  /** Subscriber load-generator processes. */
  loadProcesses: number;
  /** Size of each event's data in bytes. */
  dataBytes: number;
  /** Measure the subscriber-facing process's RSS before and after connecting. */
  measureIdleRss?: boolean;
  redisPid?: number;
}

export interface LoadResult {
  target: string;
  subscribers: number;
  requested: number;
  /** Deliveries per second received in the measured window. */
  achieved: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  disconnects: number;
  publishFailed: number;
  /** Relay processes' CPU per delivery, µs. */
  cpuPerDelivery: number;
  /** Redis's CPU per delivery, µs. */
  redisCpuPerDelivery: number;
  /** Busiest subscriber load process, % of one core. */
  generatorCpu: number;
  publisherCpu: number;
  /** Bytes of RSS per connected subscriber, when measured. */
  rssPerConnection?: number;
}

function forkChild(script: string, job: unknown): ChildProcess {
  return fork(join(ROOT, script), [JSON.stringify(job)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type: string }) => {
      if (msg.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg as T);
    };
    const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code} before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** One measured run of one target: connect, warm up, measure, drain, account. */
export async function runLoad(target: RunningTarget, options: LoadOptions): Promise<LoadResult> {
  const rssBefore = rssBytes(target.subscriberPid);
  const perProcess = Math.ceil(options.subscribers / options.loadProcesses);
  const subscribers: ChildProcess[] = [];
  for (let first = 0; first < options.subscribers; first += perProcess) {
    const job: SubscriberJob = {
      target: target.kind,
      url: target.subscribeUrl,
      token: target.token,
      count: Math.min(perProcess, options.subscribers - first),
      channels: options.channels,
      first,
    };
    subscribers.push(forkChild('bench/load/subscribers.ts', job));
  }
  try {
    await Promise.all(subscribers.map((s) => nextMessage<FromSubscribers>(s, 'ready')));
    let rssPerConnection: number | undefined;
    if (options.measureIdleRss) {
      // Let the handshakes' garbage be collected and buffers settle before reading RSS.
      await new Promise((r) => setTimeout(r, 3000));
      rssPerConnection = (rssBytes(target.subscriberPid) - rssBefore) / options.subscribers;
    }
    const perChannel = options.subscribers / options.channels;
    const job: PublisherJob = {
      target: target.kind,
      url: target.publishUrl,
      key: target.key,
      channels: options.channels,
      rate: options.deliveriesPerSecond / perChannel,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
      dataBytes: options.dataBytes,
    };
    const publisher = forkChild('bench/load/publisher.ts', job);
    await nextMessage(publisher, 'marked');
    for (const s of subscribers) s.send({ cmd: 'mark' });
    const redisPids = options.redisPid ? [options.redisPid] : [];
    const cpu0 = totalCpuMicros(target.relayPids);
    const redis0 = totalCpuMicros(redisPids);
    const done = await nextMessage<PublisherResult>(publisher, 'done');
    const cpu1 = totalCpuMicros(target.relayPids);
    const redis1 = totalCpuMicros(redisPids);
    const results = await Promise.all(
      subscribers.map((s) => {
        const result = nextMessage<SubscriberResult>(s, 'result');
        s.send({ cmd: 'finish', expected: done.expected });
        return result;
      }),
    );
    return summarize(target.kind, options, done, results, cpu1 - cpu0, redis1 - redis0, rssPerConnection);
  } finally {
    for (const s of subscribers) if (s.exitCode === null) s.kill('SIGKILL');
  }
}

function summarize(
  target: string,
  options: LoadOptions,
  done: PublisherResult,
  results: SubscriberResult[],
  cpuMicros: number,
  redisMicros: number,
  rssPerConnection: number | undefined,
): LoadResult {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  for (const r of results) histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
  const measured = results.reduce((n, r) => n + r.measured, 0);
  const sum = (key: 'lost' | 'duplicates' | 'outOfOrder' | 'disconnects') => results.reduce((n, r) => n + r[key], 0);
  const ms = (us: number) => us / 1000;
  return {
    target,
    subscribers: options.subscribers,
    requested: options.deliveriesPerSecond,
    achieved: measured / options.seconds,
    eventsPerSecond: done.achievedRate,
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    outOfOrder: sum('outOfOrder'),
    disconnects: sum('disconnects'),
    publishFailed: done.failed,
    cpuPerDelivery: measured > 0 ? cpuMicros / measured : 0,
    redisCpuPerDelivery: measured > 0 ? redisMicros / measured : 0,
    generatorCpu: Math.max(...results.map((r) => (r.cpuMicros / (r.wallMs * 1000)) * 100)),
    publisherCpu: (done.cpuMicros / (options.seconds * 1_000_000)) * 100,
    rssPerConnection,
  };
}
