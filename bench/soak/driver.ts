// The soak's load (a child process of bench/soak.ts): a publisher on many
// channels and a crowd of subscribers that churn — unsubscribe and resume
// with since, drop and resume, reconnect fresh, and now and then stop reading
// (a slow consumer). Answers `sample` with the interval's delivery latency
// and the checks so far, and `stop` with the final verdict.
import * as hdr from 'hdr-histogram-js';
import { SoakClient, type ClientContext } from './client.js';
import type { SoakCounters, SoakFinal, SoakJob, SoakSample, ToDriver } from './ipc.js';
import { PublishLoop } from './publish-loop.js';

const CHURN_TICK_MS = 100;
/** How long a slow consumer stops reading: long enough to fill socket buffers at its channels' rate. */
const SLOW_PAUSE_MS = { min: 10_000, max: 40_000 };
/**
 * The burst to a slow consumer: 480 × 16 KiB = 7.5 MiB. On loopback the kernel holds ~4 MiB of a
 * socket that is not read (the send buffer autotunes to tcp_wmem's max), and the server 1 MiB more
 * (MAX_BUFFERED_BYTES) before it closes with 4008: the burst must exceed both.
 */
const SLOW_BURST_EVENTS = 480;
export const SLOW_EVENT_BYTES = 16 * 1024;
/** After the pause, how long the slow consumer keeps the slow channel (its resume and backlog land meanwhile). */
const SLOW_AFTER_MS = 15_000;
/** After `stop`: how long everybody may take to settle, and then to receive the last events. */
const SETTLE_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 30_000;
const CONNECT_CONCURRENCY = 50;

const job = JSON.parse(process.argv[2]!) as SoakJob;
const counters: SoakCounters = {
  lost: 0, duplicates: 0, outOfOrder: 0, idNotIncreasing: 0, idMismatch: 0, unexpected: 0, unrecovered: 0, serverErrors: 0,
  delivered: 0, published: 0, publishFailed: 0, connects: 0, resumes: 0, freshSubscribes: 0, unsubscribes: 0,
  slowConsumerEpisodes: 0, slowConsumerCloses: 0, serverCloses: 0,
};
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
let interval = newHistogram();
const publisher = new PublishLoop({ ...job, slowBytes: SLOW_EVENT_BYTES });
const ctx: ClientContext = {
  url: job.url, token: job.token, publisher, counters, pendingIds: [],
  recordLatency: (ms) => interval.recordValue(Math.max(1, Math.round(ms * 1000))),
};
const clients = Array.from(
  { length: job.subscribers },
  (_, i) => new SoakClient(ctx, Array.from({ length: job.perSubscriber }, (_, j) => (i * job.perSubscriber + j) % job.channels)),
);
const random = (min: number, max: number) => min + Math.random() * (max - min);
const pickQuiet = () => {
  for (let tries = 0; tries < 10; tries++) {
    const c = clients[Math.floor(Math.random() * clients.length)]!;
    if (c.quiet) return c;
  }
  return undefined;
};

/** One churn action, the mix of what real subscribers do. */
function churn(): void {
  const client = pickQuiet();
  if (!client) return;
  const roll = Math.random();
  const channel = client.channels[Math.floor(Math.random() * client.channels.length)]!;
  if (roll < 0.4) {
    // Unsubscribe, and come back with since a moment later (a resume on a live connection).
    client.unsubscribe(channel);
    setTimeout(() => client.resubscribe(channel), random(500, 3000)).unref();
  } else if (roll < 0.55) {
    // Unsubscribe, and subscribe again later without since (only live events from then on).
    client.unsubscribe(channel);
    setTimeout(() => client.resubscribe(channel, true), random(500, 3000)).unref();
  } else if (roll < 0.9) {
    // Drop the connection and come back resuming every channel (a network blip).
    client.disconnect();
    setTimeout(() => void client.connect(true), random(200, 2000)).unref();
  } else {
    // A new visitor: a fresh connection without since.
    client.disconnect();
    setTimeout(() => void client.connect(false), random(200, 2000)).unref();
  }
}

let slowBusy = false;

/**
 * A slow consumer: one subscriber takes on the slow channel, stops reading, and a burst of large
 * events goes to that channel, more than socket buffers and MAX_BUFFERED_BYTES hold, so that the
 * server cuts it (4008) and it resumes with since once it reads again.
 */
async function slowEpisode(): Promise<void> {
  const client = slowBusy ? undefined : pickQuiet();
  if (!client) return;
  slowBusy = true;
  const c = publisher.slowChannel;
  client.addChannel(c);
  await until(() => client.isActive(c) || !client.connected, 10_000);
  const ms = random(SLOW_PAUSE_MS.min, SLOW_PAUSE_MS.max);
  client.pause(ms);
  publisher.burst(SLOW_BURST_EVENTS);
  setTimeout(() => {
    client.removeChannel(c);
    slowBusy = false;
  }, ms + SLOW_AFTER_MS).unref();
}

/** Ids that arrived before the source-server's answer, checked once it is in. */
function checkPendingIds(): void {
  const still: ClientContext['pendingIds'] = [];
  for (const entry of ctx.pendingIds) {
    const published = publisher.idOf(entry[0], entry[1]);
    if (published === undefined) still.push(entry);
    else if (published !== null && published !== entry[2]) counters.idMismatch++;
  }
  ctx.pendingIds = still;
}

const until = async (done: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return done();
};

let churnTimer: NodeJS.Timeout | undefined;
let slowTimer: NodeJS.Timeout | undefined;

function startChurn(): void {
  let credit = 0;
  churnTimer = setInterval(() => {
    credit += (job.churnPerSecond * CHURN_TICK_MS) / 1000;
    for (; credit >= 1; credit--) churn();
    checkPendingIds();
  }, CHURN_TICK_MS);
  slowTimer = setInterval(() => void slowEpisode(), job.slowEverySeconds * 1000);
}

// An orchestrator that died takes its load with it.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: ToDriver) => {
  if (msg.cmd === 'sample') {
    counters.published = publisher.published;
    counters.publishFailed = publisher.failed;
    const h = interval;
    interval = newHistogram();
    const sample: SoakSample = {
      type: 'sample', deliveries: h.totalCount, p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000,
      maxMs: h.maxValue / 1000, openConnections: clients.filter((c) => c.connected).length, counters: { ...counters },
    };
    process.send!(sample);
  } else if (msg.cmd === 'stop') void stop();
});

async function stop(): Promise<void> {
  clearInterval(churnTimer);
  clearInterval(slowTimer);
  for (const c of clients) c.readAgain();
  // Pending resubscribes and reconnects land, slow consumers resume, then the publisher stops.
  const settled = () => {
    for (const c of clients) c.resubscribeAll();
    return clients.every((c) => c.fullySubscribed);
  };
  if (!(await until(settled, SETTLE_TIMEOUT_MS))) {
    process.stderr.write(`soak: ${clients.filter((c) => !c.fullySubscribed).length} subscribers did not settle\n`);
  }
  await publisher.stop();
  await until(() => clients.every((c) => c.shortfall(publisher.accepted) === 0), DRAIN_TIMEOUT_MS);
  checkPendingIds();
  for (const c of clients) counters.lost += c.shortfall(publisher.accepted);
  counters.published = publisher.published;
  counters.publishFailed = publisher.failed;
  const final: SoakFinal = { type: 'final', counters, subscriptionsChecked: clients.length * job.perSubscriber };
  for (const c of clients) c.disconnect();
  process.send!(final, () => process.exit(0));
}

async function main(): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, async () => {
    while (next < clients.length) await clients[next++]!.connect(false);
  }));
  await until(() => clients.every((c) => c.fullySubscribed), SETTLE_TIMEOUT_MS);
  publisher.start();
  startChurn();
  process.send!({ type: 'ready' });
}
void main();
