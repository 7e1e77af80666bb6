// Load generator, subscriber side (a child process of bench/run.ts): opens N
// subscribers on one target (each holding `perSubscriber` channels), checks
// and measures every delivery (tracker.ts), and counts the bytes its TCP
// sockets read. Talks to the parent over IPC (lib/ipc.ts).
import type { FromSubscribers, SubscriberJob, SubscriberResult, ToSubscribers } from '../lib/ipc.js';
import { CountingAgent, openSubscriber, type Opened } from './connect.js';
import { Tracker, now } from './tracker.js';

/** After the publisher stops, how long stragglers may take before the missing ones count as lost. */
const DRAIN_TIMEOUT_MS = 5000;

const job = JSON.parse(process.argv[2]!) as SubscriberJob;
const tracker = new Tracker(job);
// One socket per connection and no keep-alive pool: the agent only makes and counts sockets.
const agent = new CountingAgent({ keepAlive: false, maxSockets: Infinity });
const opened: Opened[] = [];
let disconnects = 0;
let cpuMark = process.cpuUsage();
let wallMark = now();
let bytesMark = 0;

const send = (msg: FromSubscribers) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));

async function connectAll(): Promise<void> {
  let next = 0;
  const ctx = { job, tracker, agent, onDisconnect: () => disconnects++ };
  const worker = async () => {
    while (next < job.count) opened.push(await openSubscriber(ctx, next++));
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, worker));
}

/** Polls `done` every few ms until it holds or `timeoutMs` passes; resolves with whether it held. */
function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const poll = () => (done() ? resolve(true) : Date.now() > deadline ? resolve(false) : void setTimeout(poll, 5));
    poll();
  });
}

// An orchestrator that died takes its load with it.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: ToSubscribers) => {
  if (msg.cmd === 'mark') {
    tracker.mark();
    cpuMark = process.cpuUsage();
    wallMark = now();
    bytesMark = agent.bytesRead();
  } else if (msg.cmd === 'await') {
    const c = Number(msg.channel.slice(6));
    void until(() => tracker.reached(c, msg.seq), msg.timeoutMs).then((complete) => send({ type: 'reached', seq: msg.seq, complete }));
  } else if (msg.cmd === 'finish') {
    tracker.measuring = false;
    // The generator's CPU and the bytes are judged over the measured window, not the wait for stragglers.
    const cpu = process.cpuUsage(cpuMark);
    const wallMs = now() - wallMark;
    const bytesRead = agent.bytesRead() - bytesMark;
    void until(() => tracker.caughtUp(msg.expected), DRAIN_TIMEOUT_MS).then(async () => {
      const result: SubscriberResult = { type: 'result', ...tracker.result(msg.expected), disconnects, bytesRead, cpuMicros: cpu.user + cpu.system, wallMs };
      for (const o of opened) o.close();
      await send(result);
      process.exit(0);
    });
  }
});

const connectStart = now();
connectAll().then(
  () => send({ type: 'ready', connected: opened.length, deflated: opened.filter((o) => o.deflated).length, connectStart, connectEnd: now() }),
  (err: unknown) => {
    process.stderr.write(`subscribers: cannot connect to ${job.target}: ${String(err)}\n`);
    process.exit(1);
  },
);
