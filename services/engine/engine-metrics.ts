import { Counter, Gauge, type Registry } from 'prom-client';

export interface EngineMetricsOptions {
  /** Whether the engine receives events (a client-server): only then can its subscription reconnect, backfill, find gaps or miss canaries. */
  subscribe: boolean;
  /** Whether WEBHOOK_URLS is set: only then does the engine deliver webhooks. */
  webhooks: boolean;
}

/**
 * What the engine counts, registered on the registry of the service it runs
 * in. A family is registered only where something can count it, so a
 * source-server (no subscription) exports no bus-reconnect family and a
 * deployment without webhooks no webhook family: an always-empty family
 * reads as "nothing happened" where the truth is "this cannot happen here".
 * The counters exist either way, so the code that increments them needs
 * no check.
 */
export class EngineMetrics {
  readonly busReconnects: Counter;
  readonly backfilledEvents: Counter;
  readonly gaps: Counter;
  readonly canaryFailures: Counter;
  readonly webhookDeliveries: Counter;
  readonly webhookRetries: Counter;
  readonly webhookFailures: Counter;
  readonly webhookQueueAge: Gauge;

  constructor(registry: Registry, options: EngineMetricsOptions) {
    const subscription = options.subscribe ? [registry] : [];
    const webhooks = options.webhooks ? [registry] : [];
    this.busReconnects = new Counter({ name: 'eventrelay_bus_reconnects_total', help: 'Times the bus connection to Redis was re-established', registers: subscription });
    this.backfilledEvents = new Counter({ name: 'eventrelay_backfilled_events_total', help: 'Events read back from history after a bus reconnect', registers: subscription });
    this.gaps = new Counter({ name: 'eventrelay_gaps_total', help: 'Channels whose continuity could not be proven after a bus reconnect', registers: subscription });
    this.canaryFailures = new Counter({
      name: 'eventrelay_bus_canary_failures_total',
      help: 'Times the Redis subscriber connection missed its canaries and was forcibly reconnected',
      registers: subscription,
    });
    // `receiver`: the URL's origin (never its path or query, which may hold a secret).
    this.webhookDeliveries = new Counter({ name: 'eventrelay_webhook_deliveries_total', help: 'Webhooks answered 2xx by their receiver', labelNames: ['receiver'], registers: webhooks });
    this.webhookRetries = new Counter({
      name: 'eventrelay_webhook_retries_total',
      help: 'Webhook attempts that failed (non-2xx or no answer in time) and will be retried',
      labelNames: ['receiver'],
      registers: webhooks,
    });
    this.webhookFailures = new Counter({
      name: 'eventrelay_webhook_failures_total',
      help: 'Webhooks given up after WEBHOOK_GIVE_UP_SECONDS of failed attempts',
      labelNames: ['receiver'],
      registers: webhooks,
    });
    this.webhookQueueAge = new Gauge({
      name: 'eventrelay_webhook_queue_age_seconds',
      help: 'Age of the oldest transition not yet delivered to every webhook URL (0: none), deployment-wide',
      registers: webhooks,
    });
  }
}
