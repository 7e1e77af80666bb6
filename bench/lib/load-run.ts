import * as hdr from 'hdr-histogram-js';
import { forkChild, nextMessage, startSubscribers, type Subscribers } from './children.js';
import type { PublisherJob, PublisherResult, SubscriberResult } from './ipc.js';
import type { PayloadKind } from './payload.js';
import { rssBytes, totalCpuMicros } from './proc.js';
import type { RunningTarget } from './targets.js';

export interface LoadOptions {
  subscribers: number;
  channels: number;
  /** Channels each subscriber holds (default 1). */
  perSubscriber?: number;
  /** Deliveries per second asked for: events/s × subscribers per channel. */
  deliveriesPerSecond: number;
  seconds: number;
  warmupSeconds: number;
  /** Subscriber load-generator processes. */
  loadProcesses: number;
  /** Size of each event's data in bytes. */
  dataBytes: number;
  payload?: PayloadKind;
  /** Clients offer permessage-deflate. */
  deflate?: boolean;
  /** Subscribers check every event's data byte for byte. */
  verify?: boolean;
  /** Measure the subscriber-facing processes' RSS before and after connecting. */
  measureIdleRss?: boolean;
  /** Row label (default: the target's kind), e.g. "eventrelay WRITE_DELAY_MS=20". */
  label?: string;
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
  /** Events whose data was not byte for byte what was published (runs with `verify`). */
  corrupt?: number;
  disconnects: number;
  publishFailed: number;
  /** Relay processes' CPU per delivery, µs. */
  cpuPerDelivery: number;
  /** Redis's CPU per delivery, µs. */
  redisCpuPerDelivery: number;
  /** The subscriber-side processes' CPU alone (client-servers; the peers' servers) per delivery, µs. */
  subscriberCpuPerDelivery?: number;
  /** Busiest subscriber load process, % of one core. */
  generatorCpu: number;
  publisherCpu: number;
  /** TCP bytes the subscribers read per delivery in the window (frames, headers, control frames: all of it). */
  bytesPerDelivery?: number;
  /** Connections that negotiated permessage-deflate. */
  deflated?: number;
  /** Bytes of RSS per connected subscriber after connecting, when measured. */
  rssPerConnection?: number;
  /** Bytes of RSS per subscriber at the end of the measured window, over the RSS before connecting. */
  loadedRssPerConnection?: number;
}

const sumRss = (pids: readonly number[]) => pids.reduce((n, pid) => n + rssBytes(pid), 0);

/** One measured run of one target: connect, warm up, measure, drain, account. */
export async function runLoad(target: RunningTarget, options: LoadOptions): Promise<LoadResult> {
  const perSubscriber = options.perSubscriber ?? 1;
  const payload = options.payload ?? 'padding';
  const rssBefore = sumRss(target.subscriberPids);
  const subs: Subscribers = await startSubscribers(target, {
    subscribers: options.subscribers,
    channels: options.channels,
    perSubscriber,
    processes: options.loadProcesses,
    deflate: options.deflate,
    verify: options.verify ? { kind: payload, dataBytes: options.dataBytes } : undefined,
  });
  try {
    let rssPerConnection: number | undefined;
    if (options.measureIdleRss) {
      // Let the handshakes' garbage be collected and buffers settle before reading RSS.
      await new Promise((r) => setTimeout(r, 3000));
      rssPerConnection = (sumRss(target.subscriberPids) - rssBefore) / options.subscribers;
    }
    const perChannel = (options.subscribers * perSubscriber) / options.channels;
    const job: PublisherJob = {
      target: target.kind,
      url: target.publishUrl,
      key: target.key,
      pusherApp: target.pusherApp,
      channels: options.channels,
      rate: options.deliveriesPerSecond / perChannel,
      warmupSeconds: options.warmupSeconds,
      seconds: options.seconds,
      dataBytes: options.dataBytes,
      payload,
    };
    const publisher = forkChild('bench/load/publisher.ts', job);
    await nextMessage(publisher, 'marked');
    for (const s of subs.children) s.send({ cmd: 'mark' });
    const t0 = performance.now();
    const cpu0 = totalCpuMicros(target.relayPids);
    const sub0 = totalCpuMicros(target.subscriberPids);
    const redis0 = totalCpuMicros(target.redisPids);
    const done = await nextMessage<PublisherResult>(publisher, 'done');
    const cpu1 = totalCpuMicros(target.relayPids);
    const sub1 = totalCpuMicros(target.subscriberPids);
    const redis1 = totalCpuMicros(target.redisPids);
    const cpuWindowSeconds = (performance.now() - t0) / 1000;
    const loadedRss = (sumRss(target.subscriberPids) - rssBefore) / options.subscribers;
    const results = await Promise.all(
      subs.children.map((s) => {
        const result = nextMessage<SubscriberResult>(s, 'result');
        s.send({ cmd: 'finish', expected: done.expected });
        return result;
      }),
    );
    const deflated = subs.ready.reduce((n, r) => n + r.deflated, 0);
    return summarize(options, done, results, { cpuWindowSeconds, cpu: cpu1 - cpu0, subscriberCpu: sub1 - sub0, redis: redis1 - redis0, rssPerConnection, loadedRss, deflated, label: options.label ?? target.kind });
  } finally {
    subs.kill();
  }
}

interface Accounting {
  /** The orchestrator's CPU-accounting window; each subscriber process's own window (`wallMs`) starts and ends a little later. */
  cpuWindowSeconds: number;
  cpu: number;
  subscriberCpu: number;
  redis: number;
  rssPerConnection: number | undefined;
  loadedRss: number;
  deflated: number;
  label: string;
}

function summarize(options: LoadOptions, done: PublisherResult, results: SubscriberResult[], a: Accounting): LoadResult {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  for (const r of results) histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
  const measured = results.reduce((n, r) => n + r.measured, 0);
  const sum = (key: 'lost' | 'duplicates' | 'outOfOrder' | 'disconnects' | 'corrupt' | 'bytesRead') => results.reduce((n, r) => n + r[key], 0);
  const ms = (us: number) => us / 1000;
  // Each load process measures its own window (mark → finish as it saw them); under load these
  // run longer than the publisher's, so rates come from each process's window, and CPU is
  // divided by the deliveries that rate gives over the CPU window.
  const rate = results.reduce((n, r) => n + (r.wallMs > 0 ? r.measured / (r.wallMs / 1000) : 0), 0);
  const inCpuWindow = rate * a.cpuWindowSeconds;
  const per = (n: number) => (inCpuWindow > 0 ? n / inCpuWindow : 0);
  return {
    target: a.label,
    subscribers: options.subscribers,
    requested: options.deliveriesPerSecond,
    achieved: rate,
    eventsPerSecond: done.achievedRate,
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    outOfOrder: sum('outOfOrder'),
    corrupt: sum('corrupt'),
    disconnects: sum('disconnects'),
    publishFailed: done.failed,
    cpuPerDelivery: per(a.cpu),
    redisCpuPerDelivery: per(a.redis),
    subscriberCpuPerDelivery: per(a.subscriberCpu),
    generatorCpu: Math.max(...results.map((r) => (r.cpuMicros / (r.wallMs * 1000)) * 100)),
    publisherCpu: (done.cpuMicros / (options.seconds * 1_000_000)) * 100,
    bytesPerDelivery: measured > 0 ? sum('bytesRead') / measured : 0,
    deflated: a.deflated,
    rssPerConnection: a.rssPerConnection,
    loadedRssPerConnection: a.loadedRss,
  };
}
