import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { EngineMetrics } from '../../services/engine/engine-metrics.js';
import type { Transition } from '../../services/engine/outbox.js';
import { WebhookDispatcher, type DispatcherConfig } from '../../services/engine/webhooks/dispatcher.js';
import type { OutboxStore } from '../../services/engine/webhooks/outbox-store.js';
import type { WebhookTiming } from '../../services/engine/webhooks/timing.js';
import { sinkLogger } from '../support/recorder.js';
import { startWebhookReceiver, type WebhookEvent, type WebhookReceiver } from '../support/webhook-receiver.js';

export const WEBHOOK_SECRET = 'webhook-secret-webhook-secret-0123456789';

/**
 * Clocks short enough for tests of the dispatcher itself, long enough that a
 * loaded 2-core machine does not lose leases (which would be a legitimate
 * duplicate, and fail the exactly-once checks).
 */
export const FAST: Partial<WebhookTiming> = {
  pollMs: 20,
  leaseMs: 5000,
  firstRetryMs: 200,
  maxRetryMs: 800,
  requestTimeoutMs: 1000,
  repairMs: 300,
  queueAgeMs: 100,
};

/** One broker with webhooks on, as the contract sees it. */
export interface WebhookWorld {
  /** Appends a transition as this broker's presence/occupancy writers do. */
  append(t: Transition): Promise<void>;
  /** Publishes an event with `publisher` through the bus (a client publish); resolves its id. */
  publishClient(channel: string, data: string, publisher: string): Promise<string>;
  /** Publishes an event without `publisher` (from the source-server). */
  publishSource(channel: string, data: string): Promise<void>;
  /** A new store on this broker: another replica's view when called again. */
  store(): OutboxStore;
  /** The transition JSON texts the channel's outbox holds. */
  outbox(channel: string): Promise<string[]>;
  /** Whether nothing of the channel is left: no outbox, no delivery state, not on the work list. */
  drained(channel: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

export type WorldFactory = () => Promise<WebhookWorld>;

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Waits until the async `check` holds; fails with `what` when it never does. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

export const occupied = (channel: string): Transition => ({ kind: 'channel.occupied', channel, time: Date.now() });
export const join = (channel: string, user: string): Transition => ({ kind: 'presence.join', channel, time: Date.now(), user });

/** The transitions' users, of one channel or all, in order. */
export const users = (events: WebhookEvent[], channel?: string) => events.filter((e) => channel === undefined || e.channel === channel).map((e) => e.user);

export interface Harness {
  /** A fresh broker with webhooks on. */
  world(): Promise<WebhookWorld>;
  /** A real HTTP receiver that checks signatures. */
  receiver(): Promise<WebhookReceiver>;
  /** A dispatcher on the world's broker (a new replica's), with FAST clocks; closed after the test. */
  dispatcher(
    w: WebhookWorld,
    urls: string[],
    extra?: Partial<DispatcherConfig>,
    timing?: Partial<WebhookTiming>,
    store?: OutboxStore,
  ): { dispatcher: WebhookDispatcher; lines: Array<{ level: number; msg: string }>; metrics: EngineMetrics };
}

/** What every case needs, everything closed after each test (call inside a describe). */
export function harness(makeWorld: WorldFactory): Harness {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return {
    async world() {
      const w = await makeWorld();
      cleanups.push(() => w.cleanup());
      return w;
    },
    async receiver() {
      const r = await startWebhookReceiver(WEBHOOK_SECRET);
      cleanups.push(() => r.close());
      return r;
    },
    dispatcher(w, urls, extra = {}, timing = {}, store = w.store()) {
      const { logger, lines } = sinkLogger();
      const metrics = new EngineMetrics(new Registry(), { subscribe: false, webhooks: true });
      const config: DispatcherConfig = { webhookUrls: urls, webhookSecret: WEBHOOK_SECRET, webhookGiveUpSeconds: 3600, ...extra };
      const d = new WebhookDispatcher({ config, logger, metrics, store, timing: { ...FAST, ...timing } });
      cleanups.push(() => d.close());
      return { dispatcher: d, lines, metrics };
    },
  };
}
