// The load generators as child processes of the orchestrator, and the
// plumbing to wait for their IPC messages.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromSubscribers, SubscriberJob, SubscriberReady } from './ipc.js';
import { ROOT, type RunningTarget } from './targets.js';

export function forkChild(script: string, job: unknown): ChildProcess {
  return fork(join(ROOT, script), [JSON.stringify(job)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function nextMessage<T>(child: ChildProcess, type: string, accept: (msg: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type: string }) => {
      if (msg.type !== type || !accept(msg as T)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg as T);
    };
    const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code} before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface SubscriberSpread {
  subscribers: number;
  channels: number;
  perSubscriber: number;
  /** Load processes; each stays far below the 20,000 open files a process may have. */
  processes: number;
  deflate?: boolean;
  verify?: SubscriberJob['verify'];
  perSeq?: boolean;
  /** Bind each process to its own 127.0.0.x source address (x = 2, 3, …): one address's ephemeral ports run out near 28,000. */
  spreadAddresses?: boolean;
  /** Connections opened at once over all processes. */
  concurrency?: number;
}

/** Connections in flight at once over all load processes: fast, yet well under the server's listen backlog (511). */
export const DEFAULT_CONNECT_CONCURRENCY = 200;

export interface Subscribers {
  children: ChildProcess[];
  ready: SubscriberReady[];
  kill(): void;
}

/** Forks the subscriber load processes and waits until every subscriber is subscribed. */
export async function startSubscribers(target: RunningTarget, spread: SubscriberSpread): Promise<Subscribers> {
  const perProcess = Math.ceil(spread.subscribers / spread.processes);
  const processes = Math.ceil(spread.subscribers / perProcess);
  const concurrency = Math.max(1, Math.floor((spread.concurrency ?? DEFAULT_CONNECT_CONCURRENCY) / processes));
  const children: ChildProcess[] = [];
  for (let first = 0, k = 0; first < spread.subscribers; first += perProcess, k++) {
    const job: SubscriberJob = {
      target: target.kind,
      urls: target.subscribeUrls,
      token: target.token,
      pusherApp: target.pusherApp,
      count: Math.min(perProcess, spread.subscribers - first),
      channels: spread.channels,
      perSubscriber: spread.perSubscriber,
      first,
      deflate: spread.deflate ?? false,
      verify: spread.verify,
      localAddress: spread.spreadAddresses ? `127.0.0.${2 + k}` : undefined,
      concurrency,
      perSeq: spread.perSeq ?? false,
    };
    children.push(forkChild('bench/load/subscribers.ts', job));
  }
  const kill = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  try {
    const ready = await Promise.all(children.map((c) => nextMessage<FromSubscribers>(c, 'ready') as Promise<SubscriberReady>));
    return { children, ready, kill };
  } catch (err) {
    kill();
    throw err;
  }
}
