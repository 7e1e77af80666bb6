// Load generator, subscriber side (a child process of bench/run.ts): opens N
// subscribers spread over C channels on one target, checks every delivery for
// loss, duplication and order by the publisher's per-channel sequence number,
// and records publish→deliver latency (send time in the payload) in an HDR
// histogram. Talks to the parent over IPC (see LoadMessage in lib/ipc.ts).
import * as hdr from 'hdr-histogram-js';
import { io as ioClient } from 'socket.io-client';
import { WebSocket } from 'ws';
import type { SubscriberJob, SubscriberResult, ToSubscribers } from '../lib/ipc.js';

/** Connections opened at once: enough to connect 10,000 in seconds, few enough not to overflow the listen backlog. */
const CONNECT_CONCURRENCY = 100;
/** After the publisher stops, how long stragglers may take before the missing ones count as lost. */
const DRAIN_TIMEOUT_MS = 5000;

const job = JSON.parse(process.argv[2]!) as SubscriberJob;
const now = () => performance.timeOrigin + performance.now();
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
const last = new Int32Array(job.count);
const channelOf = (i: number) => `bench-${(job.first + i) % job.channels}`;
let measuring = false;
let received = 0;
let measured = 0;
let duplicates = 0;
let outOfOrder = 0;
let gaps = 0;
let disconnects = 0;
let cpuMark = process.cpuUsage();
let wallMark = now();
const closers: (() => void)[] = [];

function onEvent(i: number, seq: number, sentAt: number): void {
  received++;
  const prev = last[i]!;
  if (seq === prev + 1) last[i] = seq;
  else if (seq <= prev) {
    if (seq === prev) duplicates++;
    else outOfOrder++;
  } else {
    gaps += seq - prev - 1;
    last[i] = seq;
  }
  if (measuring) {
    measured++;
    histogram.recordValue(Math.max(1, Math.round((now() - sentAt) * 1000)));
  }
}

/** Reads `"s":<seq>,"t":<ms>` out of a frame without parsing the JSON: the generator must not be the bottleneck. */
function onFrame(i: number, text: string): void {
  const at = text.indexOf('"s":');
  if (at < 0) return; // subscribed, pong, etc.
  const comma = text.indexOf(',', at);
  const end = text.indexOf(',', comma + 1);
  onEvent(i, Number(text.slice(at + 4, comma)), Number(text.slice(comma + 5, end)));
}

function openWs(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const channel = channelOf(i);
    const url = job.target === 'floor' ? `${job.url}/?channel=${channel}` : `${job.url}/v1/ws?token=${job.token}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let subscribed = false;
    ws.on('open', () => {
      if (job.target === 'eventrelay') ws.send(JSON.stringify({ type: 'subscribe', channel }));
    });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('latin1');
      if (!subscribed && text.includes('"subscribed"')) {
        subscribed = true;
        resolve();
      } else onFrame(i, text);
    });
    ws.on('error', (err) => (subscribed ? undefined : reject(err)));
    ws.on('close', () => (closing ? undefined : disconnects++));
    closers.push(() => ws.terminate());
  });
}

function openSocketIo(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = ioClient(job.url, { transports: ['websocket'], query: { channel: channelOf(i) }, reconnection: false });
    socket.on('subscribed', () => resolve());
    socket.on('event', (msg: { data: { s: number; t: number } }) => onEvent(i, msg.data.s, msg.data.t));
    socket.on('connect_error', reject);
    socket.on('disconnect', () => (closing ? undefined : disconnects++));
    closers.push(() => socket.disconnect());
  });
}

let closing = false;
async function connectAll(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < job.count) {
      const i = next++;
      await (job.target === 'socketio' ? openSocketIo(i) : openWs(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, job.count) }, worker));
}

function result(expected: Record<string, number>): SubscriberResult {
  let lost = gaps;
  for (let i = 0; i < job.count; i++) lost += Math.max(0, (expected[channelOf(i)] ?? 0) - last[i]!);
  const cpu = process.cpuUsage(cpuMark);
  return {
    type: 'result',
    received,
    measured,
    lost,
    duplicates,
    outOfOrder,
    disconnects,
    cpuMicros: cpu.user + cpu.system,
    wallMs: now() - wallMark,
    histogram: hdr.encodeIntoCompressedBase64(histogram),
  };
}

function caughtUp(expected: Record<string, number>): boolean {
  for (let i = 0; i < job.count; i++) if (last[i]! < (expected[channelOf(i)] ?? 0)) return false;
  return true;
}

process.on('message', (msg: ToSubscribers) => {
  if (msg.cmd === 'mark') {
    measuring = true;
    histogram.reset();
    measured = 0;
    cpuMark = process.cpuUsage();
    wallMark = now();
  } else if (msg.cmd === 'finish') {
    measuring = false;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    // The generator's CPU is judged over the measured window, not the wait for stragglers.
    const snapshot = process.cpuUsage(cpuMark);
    const wall = now() - wallMark;
    const poll = () => {
      if (!caughtUp(msg.expected) && Date.now() < deadline) return void setTimeout(poll, 20);
      const r = result(msg.expected);
      r.cpuMicros = snapshot.user + snapshot.system;
      r.wallMs = wall;
      closing = true;
      for (const close of closers) close();
      process.send!(r, () => process.exit(0));
    };
    poll();
  }
});

connectAll().then(
  () => process.send!({ type: 'ready', connected: job.count }),
  (err: unknown) => {
    process.stderr.write(`subscribers: cannot connect to ${job.target}: ${String(err)}\n`);
    process.exit(1);
  },
);
