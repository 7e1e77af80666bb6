import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../runtime/config/schema.js';
import type { EngineMetrics } from '../engine-metrics.js';
import { ChannelWorker } from './channel-worker.js';
import type { OutboxStore } from './outbox-store.js';
import { WebhookRoutes } from './routes.js';
import { WEBHOOK_TIMING, type WebhookTiming } from './timing.js';

/**
 * Channels one process delivers at once: bounds its sockets to receivers and
 * the bodies it holds (each up to MAX_BATCH_BYTES per receiver); the other
 * replicas take the rest.
 */
export const MAX_ACTIVE_CHANNELS = 64;
/** A store that keeps failing is logged at most this often, not on every poll. */
const ERROR_LOG_INTERVAL_MS = 10_000;

export type DispatcherConfig = Pick<Config, 'webhookUrls' | 'webhookSecret' | 'webhookGiveUpSeconds'> & Partial<Pick<Config, 'pusherApps'>>;

export interface DispatcherDeps {
  config: DispatcherConfig;
  logger: Logger;
  metrics?: EngineMetrics;
  store: OutboxStore;
  /** Shorter clocks for tests of the dispatcher itself; default WEBHOOK_TIMING. */
  timing?: Partial<WebhookTiming>;
  now?: () => number;
}

/**
 * Delivers the webhooks of PROTOCOL.md v1.1. One runs in every service
 * process while WEBHOOK_URLS (or a Pusher app's webhooks, routes.ts) is set, all on the same outboxes, so that any
 * replica drains what a dead one owed. It polls the work list for due
 * channels and works each one it gets the lease of (channel-worker.ts): one
 * dispatcher per channel at a time keeps each channel's webhooks in order
 * and reports each transition once for the whole deployment.
 */
export class WebhookDispatcher {
  /** This dispatcher's name on the leases. */
  readonly owner = randomUUID();
  private readonly timing: WebhookTiming;
  private readonly routes: WebhookRoutes;
  private readonly active = new Map<string, Promise<void>>();
  /** Channels another dispatcher holds, not asked for again before its lease ends. */
  private readonly skipUntil = new Map<string, number>();
  private readonly abort = new AbortController();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private pollTimer?: NodeJS.Timeout;
  private lastErrorLogAt = 0;

  constructor(private readonly deps: DispatcherDeps) {
    const { config } = deps;
    this.routes = new WebhookRoutes(config);
    this.timing = { ...WEBHOOK_TIMING, ...deps.timing };
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'webhooks' });
    this.schedulePoll(0);
    this.every(this.timing.repairMs, () => this.repair(), true);
    this.every(this.timing.queueAgeMs, () => this.measureQueueAge(), true);
    this.logger.info({ receivers: this.routes.labels }, 'webhook dispatcher started');
  }

  /** Stops polling, cuts attempts in flight (their batches are kept: another replica sends them again) and gives up the leases. */
  async close(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.pollTimer);
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.active.values());
  }

  private schedulePoll(delayMs: number): void {
    if (this.abort.signal.aborted) return;
    this.pollTimer = setTimeout(() => void this.poll(), delayMs).unref();
  }

  private async poll(): Promise<void> {
    try {
      const room = MAX_ACTIVE_CHANNELS - this.active.size;
      if (room <= 0) return;
      const now = this.now();
      for (const [channel, until] of this.skipUntil) if (until <= now) this.skipUntil.delete(channel);
      const due = await this.deps.store.pending(now, room + this.active.size + this.skipUntil.size);
      const candidates = due.filter((c) => !this.active.has(c) && !this.skipUntil.has(c)).slice(0, room);
      const leases = await Promise.all(candidates.map((c) => this.deps.store.acquire(c, this.owner, this.timing.leaseMs)));
      candidates.forEach((channel, i) => {
        const left = leases[i]!;
        if (left > 0) this.skipUntil.set(channel, now + left);
        else this.work(channel);
      });
    } catch (err) {
      this.logThrottled(err, 'webhook work list unreadable; retrying');
    } finally {
      this.schedulePoll(this.timing.pollMs);
    }
  }

  private work(channel: string): void {
    if (this.abort.signal.aborted) {
      void this.deps.store.release(channel, this.owner).catch(() => {});
      return;
    }
    const worker = new ChannelWorker(
      {
        owner: this.owner,
        store: this.deps.store,
        receivers: this.routes.receiversFor(channel),
        giveUpMs: this.deps.config.webhookGiveUpSeconds * 1000,
        timing: this.timing,
        logger: this.logger,
        metrics: this.deps.metrics,
        now: this.now,
        signal: this.abort.signal,
      },
      channel,
    );
    const done = worker.run().finally(() => this.active.delete(channel));
    this.active.set(channel, done);
  }

  private async repair(): Promise<void> {
    try {
      const found = await this.deps.store.repair(this.owner, this.timing.repairMs);
      if (found > 0) this.logger.warn({ channels: found }, 'webhook outboxes found off the work list (a writer died mid-step); put back');
    } catch (err) {
      this.logThrottled(err, 'webhook outbox repair failed; retrying at the next interval');
    }
  }

  private async measureQueueAge(): Promise<void> {
    if (!this.deps.metrics) return;
    try {
      const oldest = await this.deps.store.oldest();
      this.deps.metrics.webhookQueueAge.set(oldest === undefined ? 0 : Math.max(0, this.now() - oldest) / 1000);
    } catch (err) {
      this.logThrottled(err, 'webhook queue age unreadable');
    }
  }

  /** Runs `task` every `ms` (and once at once when `now`), never two at a time. */
  private every(ms: number, task: () => Promise<void>, now: boolean): void {
    let running = false;
    const run = () => {
      if (running || this.abort.signal.aborted) return;
      running = true;
      void task().finally(() => (running = false));
    };
    this.timers.push(setInterval(run, ms).unref());
    if (now) run();
  }

  private logThrottled(err: unknown, msg: string): void {
    const now = this.now();
    if (now - this.lastErrorLogAt < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLogAt = now;
    this.logger.warn({ err }, msg);
  }
}

/** The dispatcher of an engine, when WEBHOOK_URLS or a Pusher app's webhooks are set (the engine closes it first). */
export function startWebhooks(deps: Omit<DispatcherDeps, 'store'>, store: () => OutboxStore): WebhookDispatcher | undefined {
  return new WebhookRoutes(deps.config).any ? new WebhookDispatcher({ ...deps, store: store() }) : undefined;
}
