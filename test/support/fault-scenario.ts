import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { startLocalStack, type LocalStack, type LocalStackOptions, type Services } from './local-stack.js';
import { Fleet, type FleetOptions } from './fault-fleet.js';
import { RetryingPublisher } from './publisher.js';

/** Every scenario: at least this many resuming subscribers... */
export const SUBSCRIBERS = 200;
/** ...spread over this many channels, one publisher each... */
export const CHANNELS = 4;
/** ...each publishing this many events per second. */
export const RATE_PER_CHANNEL = 10;

export const LOAD = `${SUBSCRIBERS} subscribers on ${CHANNELS} channels, ${CHANNELS * RATE_PER_CHANNEL} events/s`;

/** Environment every fault scenario runs the services with: quick canaries, history that outlasts a run. */
export const FAULT_ENV: Record<string, string> = { CANARY_INTERVAL_SECONDS: '1', HISTORY_SIZE: '5000', LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error' };

export interface Running<S extends Services = LocalStack> {
  stack: S;
  fleet: Fleet;
  publishers: RetryingPublisher[];
  channels: string[];
  token: string;
}

let run = 0;

/**
 * Starts a local stack, a fleet of subscribers and one publisher per channel;
 * calls `during` while they publish, then stops the publishers, waits
 * (bounded) until every subscriber has caught up, and tears everything
 * down, also when something threw.
 */
export async function runScenario<S extends Services = LocalStack>(
  options: {
    stack?: LocalStackOptions;
    /** Starts the stack instead of a local one on a redis-server (e.g. services on a Redis Cluster); gets FAULT_ENV. */
    start?: (env: Record<string, string>) => Promise<S>;
    fleet?: Partial<Omit<FleetOptions, 'wsUrls' | 'channels'>>;
    padding?: number;
    /** Padding per channel index, instead of `padding` for all. */
    paddingForChannel?: (channelIndex: number) => number;
    /** Bound of the publishing phase; `during` usually ends it sooner. */
    maxPublishMs?: number;
    ratePerChannel?: number;
    /** Whether every subscriber is expected to end with every acknowledged event. Default true. */
    catchUp?: boolean;
  },
  during: (r: Running<S>) => Promise<void>,
  hooks: { beforeFleet?: (stack: S) => void } = {},
): Promise<Running<S>> {
  const env = { ...FAULT_ENV, ...options.stack?.env };
  const stack = options.start ? await options.start(env) : ((await startLocalStack({ ...options.stack, env })) as unknown as S);
  let fleet: Fleet | undefined;
  const publishers: RetryingPublisher[] = [];
  try {
    const wsUrls = stack.clientUrls.map((u) => `${u.replace(/^http/, 'ws')}/v1/ws`);
    const token = signSubscriberToken(stack.jwtSecret, { channels: ['*'], ttlSeconds: 3600 });
    const channels = Array.from({ length: CHANNELS }, (_, i) => `faults:${process.pid}:${++run}:${i}`);
    hooks.beforeFleet?.(stack);
    fleet = new Fleet({ wsUrls, channels, count: SUBSCRIBERS, token: () => token, ...options.fleet });
    await fleet.start();
    channels.forEach((channel, i) =>
      publishers.push(new RetryingPublisher(stack.sourceUrl, stack.publisherKey, channel, options.paddingForChannel?.(i) ?? options.padding)),
    );
    const publishing = Promise.all(publishers.map((p) => p.publishSteadily(options.ratePerChannel ?? RATE_PER_CHANNEL, options.maxPublishMs ?? 60_000)));
    const r: Running<S> = { stack, fleet, publishers, channels, token };
    try {
      await during(r);
    } finally {
      for (const p of publishers) p.stop();
      await publishing;
    }
    if (options.catchUp !== false) await caughtUp(r);
    return r;
  } finally {
    fleet?.stop();
    await stack.stop();
  }
}

/** Waits, at most 20 s, until every subscriber has the last acknowledged event of its channel. */
async function caughtUp({ fleet, publishers }: Pick<Running<Services>, 'fleet' | 'publishers'>): Promise<void> {
  const last = new Map(publishers.map((p) => [p.channel, p.acknowledged.at(-1)]));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (fleet.subscribers.every((s) => s.lastId === last.get(s.channel) || s.closedAt !== undefined)) return;
    await sleep(100);
  }
  // Not thrown: the figures then show what is missing, and the assertions fail on them.
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `url` every 100 ms while `during` runs; returns every status seen. */
export async function watchStatuses(urls: string[], during: () => Promise<void>): Promise<Map<string, Set<number>>> {
  const seen = new Map(urls.map((u) => [u, new Set<number>()]));
  let running = true;
  const polling = Promise.all(
    urls.map(async (url) => {
      while (running) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
          seen.get(url)!.add(res.status);
          await res.body?.cancel();
        } catch {
          seen.get(url)!.add(0);
        }
        await sleep(100);
      }
    }),
  );
  try {
    await during();
  } finally {
    running = false;
    await polling;
  }
  return seen;
}
