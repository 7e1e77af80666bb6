// Load generator, publisher side (a child process of bench/run.ts): sends
// `rate` events/s over HTTP, round-robin over the channels, for a warm-up and
// then the measured window. One request in flight per channel, so that the
// order a subscriber sees can be checked against the order sent; events due
// while a channel is busy queue here and are stamped when actually sent.
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { PublisherJob, PublisherResult } from '../lib/ipc.js';
import { eventData } from '../lib/payload.js';

/** The scheduler's tick; events due within one tick leave together. */
const TICK_MS = 2;

const job = JSON.parse(process.argv[2]!) as PublisherJob;
const target = new URL(job.url);
const agent = new Agent({ keepAlive: true, maxSockets: job.channels * 2 });
const now = () => performance.timeOrigin + performance.now();
const seq = new Array<number>(job.channels).fill(0);
const due = new Array<number>(job.channels).fill(0);
const busy = new Array<boolean>(job.channels).fill(false);
let sent = 0;
let failed = 0;
let acceptedInWindow = 0;
let inWindow = false;
let stopping = false;

function path(channel: string): string {
  return job.target === 'eventrelay' ? `/v1/channels/${channel}/events` : `/c/${channel}`;
}

/**
 * The `pusher` target publishes as a Pusher server SDK does: `POST
 * /apps/{id}/events` with `{name, channel, data}` (data a string), signed
 * (pusher-http-node's createSignedQueryString: sorted query, body_md5, HMAC-SHA256).
 */
function pusherRequest(channel: string, data: string): { path: string; body: string } {
  const app = job.pusherApp!;
  const body = JSON.stringify({ name: 'e', channel, data });
  const query = `auth_key=${app.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&body_md5=${createHash('md5').update(body).digest('hex')}`;
  const signature = createHmac('sha256', app.secret).update(`POST\n/apps/${app.id}/events\n${query}`).digest('hex');
  return { path: `/apps/${app.id}/events?${query}&auth_signature=${signature}`, body };
}

function pump(c: number): void {
  if (busy[c] || due[c]! <= 0) return;
  busy[c] = true;
  const channel = `bench-${c}`;
  const next = seq[c]! + 1;
  const data = eventData(job.payload, next, now(), job.dataBytes);
  const pusher = job.target === 'pusher' ? pusherRequest(channel, data) : undefined;
  const body = pusher?.body ?? data;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  if (job.key) headers.authorization = `Bearer ${job.key}`;
  const req = request({ host: target.hostname, port: target.port, method: 'POST', path: pusher?.path ?? path(channel), headers, agent }, (res) => {
    res.resume();
    res.on('end', () => {
      busy[c] = false;
      sent++;
      if (res.statusCode === 200) {
        // Only an accepted event consumes a sequence number: a refused one is retried, never counted as lost.
        seq[c] = next;
        due[c]!--;
        if (inWindow) acceptedInWindow++;
      } else {
        failed++;
        if (stopping) due[c] = 0;
      }
      pump(c);
    });
  });
  req.on('error', () => {
    busy[c] = false;
    failed++;
    if (stopping) due[c] = 0;
    setTimeout(() => pump(c), 10);
  });
  req.end(body);
}

const started = now();
const windowStart = started + job.warmupSeconds * 1000;
const windowEnd = windowStart + job.seconds * 1000;
let scheduled = 0;
let cpuMark = process.cpuUsage();
const timer = setInterval(() => {
  const t = now();
  if (!inWindow && t >= windowStart) {
    inWindow = true;
    cpuMark = process.cpuUsage();
    process.send!({ type: 'marked' });
  }
  if (t >= windowEnd) return void finish();
  const target = Math.floor(((t - started) / 1000) * job.rate);
  for (; scheduled < target; scheduled++) due[scheduled % job.channels]!++;
  for (let c = 0; c < job.channels; c++) pump(c);
}, TICK_MS);

function finish(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  const cpu = process.cpuUsage(cpuMark);
  // Whatever is still queued is dropped; what is in flight must land before the totals are final.
  for (let c = 0; c < job.channels; c++) due[c] = Math.min(due[c]!, busy[c] ? 1 : 0);
  const wait = () => {
    if (busy.some(Boolean)) return void setTimeout(wait, 5);
    const expected: Record<string, number> = {};
    for (let c = 0; c < job.channels; c++) expected[`bench-${c}`] = seq[c]!;
    const result: PublisherResult = {
      type: 'done',
      expected,
      sent,
      failed,
      acceptedInWindow,
      achievedRate: acceptedInWindow / job.seconds,
      cpuMicros: cpu.user + cpu.system,
    };
    process.send!(result, () => process.exit(0));
  };
  wait();
}
