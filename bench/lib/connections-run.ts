// Many connections on one target: connect them all (several load processes,
// each bound to its own 127.0.0.x so that no source address runs out of
// ephemeral ports), read the subscriber-side RSS once they are idle, then
// broadcast single events to all of them and time the first and the last receipt.
import * as hdr from 'hdr-histogram-js';
import { startSubscribers } from './children.js';
import { postEvent } from './http-post.js';
import type { FromSubscribers, SubscriberResult } from './ipc.js';
import { eventData } from './payload.js';
import { rssBytes, totalCpuMicros } from './proc.js';
import type { RunningTarget } from './targets.js';

/** Connections per load process: with sockets, pipes and modules, far below the 20,000 open files a process may have. */
export const CONNECTIONS_PER_PROCESS = 5000;
/** How long the connections sit idle before RSS is read: handshake garbage collected, buffers returned. */
export const SETTLE_MS = 5000;
/** How long one broadcast may take to reach everybody before it counts as incomplete. */
const BROADCAST_TIMEOUT_MS = 30_000;
/** Pause between broadcasts, so that each one starts on a quiet server. */
const BETWEEN_BROADCASTS_MS = 500;
const CHANNEL = 'bench-0';

export interface BroadcastTiming {
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  lastMs: number;
  received: number;
}

export interface ConnectionsResult {
  target: string;
  connections: number;
  servers: number;
  loadProcesses: number;
  connectPerSecond: number;
  /** Subscriber-side RSS growth per connection once idle (all subscriber-side processes together). */
  idleRssPerConnection: number;
  /** RSS of one subscriber-side process before anything connected. */
  baseRss: number;
  broadcasts: BroadcastTiming[];
  /** Relay processes' CPU over the broadcasts, per delivery, µs. */
  cpuPerDelivery: number;
  lost: number;
  duplicates: number;
  disconnects: number;
}

export async function runConnections(target: RunningTarget, connections: number, broadcasts: number): Promise<ConnectionsResult> {
  const sumRss = () => target.subscriberPids.reduce((n, pid) => n + rssBytes(pid), 0);
  const rss0 = sumRss();
  const processes = Math.ceil(connections / CONNECTIONS_PER_PROCESS);
  const subs = await startSubscribers(target, {
    subscribers: connections, channels: 1, perSubscriber: 1, processes, perSeq: true, spreadAddresses: true,
  });
  try {
    const start = Math.min(...subs.ready.map((r) => r.connectStart));
    const end = Math.max(...subs.ready.map((r) => r.connectEnd));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const idleRss = (sumRss() - rss0) / connections;
    const cpu0 = totalCpuMicros(target.relayPids);
    for (let seq = 1; seq <= broadcasts; seq++) {
      const reached = subs.children.map(
        (c) => new Promise<boolean>((resolve) => {
          const on = (msg: FromSubscribers) => {
            if (msg.type !== 'reached' || msg.seq !== seq) return;
            c.off('message', on);
            resolve(msg.complete);
          };
          c.on('message', on);
        }),
      );
      const status = await postEvent(target, CHANNEL, eventData('padding', seq, performance.timeOrigin + performance.now(), 100));
      if (status !== 200) throw new Error(`broadcast ${seq}: publish answered ${status}`);
      for (const c of subs.children) c.send({ cmd: 'await', channel: CHANNEL, seq, timeoutMs: BROADCAST_TIMEOUT_MS });
      await Promise.all(reached);
      await new Promise((r) => setTimeout(r, BETWEEN_BROADCASTS_MS));
    }
    const cpu = totalCpuMicros(target.relayPids) - cpu0;
    const results = await Promise.all(
      subs.children.map((c) => {
        const result = new Promise<SubscriberResult>((resolve) => c.on('message', (m: FromSubscribers) => m.type === 'result' && resolve(m)));
        c.send({ cmd: 'finish', expected: { [CHANNEL]: broadcasts } });
        return result;
      }),
    );
    const timings: BroadcastTiming[] = [];
    for (let seq = 1; seq <= broadcasts; seq++) {
      const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
      for (const r of results) {
        const encoded = r.perSeq?.[String(seq)];
        if (encoded) h.add(hdr.decodeFromCompressedBase64(encoded));
      }
      timings.push({ firstMs: h.minNonZeroValue / 1000, p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, lastMs: h.maxValue / 1000, received: h.totalCount });
    }
    const sum = (k: 'lost' | 'duplicates' | 'disconnects') => results.reduce((n, r) => n + r[k], 0);
    return {
      target: target.kind,
      connections,
      servers: target.subscriberPids.length,
      loadProcesses: processes,
      connectPerSecond: connections / ((end - start) / 1000),
      idleRssPerConnection: idleRss,
      baseRss: rss0 / target.subscriberPids.length,
      broadcasts: timings,
      cpuPerDelivery: cpu / (connections * broadcasts),
      lost: sum('lost'),
      duplicates: sum('duplicates'),
      disconnects: sum('disconnects'),
    };
  } finally {
    subs.kill();
  }
}
