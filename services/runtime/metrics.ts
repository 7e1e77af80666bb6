import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds, from sub-millisecond to the multi-second tail. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * One registry per app instance (never prom-client's global one), so that the
 * embedded mode can build two apps in one process and tests can build many.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly eventsPublished: Counter;
  readonly eventsReplayed: Counter;
  readonly eventsDelivered: Counter;
  readonly publishLatency: Histogram;
  readonly deliverLatency: Histogram;
  readonly slowConsumerDisconnects: Counter;
  readonly busReconnects: Counter;
  readonly backfilledEvents: Counter;
  readonly gaps: Counter;
  readonly errors: Counter;
  readonly canaryFailures: Counter;
  readonly webhookDeliveries: Counter;
  readonly webhookRetries: Counter;
  readonly webhookFailures: Counter;
  readonly webhookQueueAge: Gauge;
  readonly clientPublishes: Counter;
  readonly presenceMemberships: Gauge;
  readonly operatorDisconnects: Counter;

  constructor(service: string, options: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.connections = new Gauge({ name: 'eventrelay_connections', help: 'Open subscriber connections', labelNames: ['transport'], registers });
    this.subscriptions = new Gauge({ name: 'eventrelay_subscriptions', help: 'Active channel subscriptions of subscriber connections', registers });
    this.eventsPublished = new Counter({ name: 'eventrelay_events_published_total', help: 'Events stored and published', registers });
    this.eventsReplayed = new Counter({ name: 'eventrelay_events_replayed_total', help: 'Publishes answered from an idempotency key', registers });
    this.eventsDelivered = new Counter({ name: 'eventrelay_events_delivered_total', help: 'Events written to subscriber connections', labelNames: ['transport'], registers });
    this.publishLatency = new Histogram({ name: 'eventrelay_publish_duration_seconds', help: 'Time from request received to event stored and published', buckets: LATENCY_BUCKETS, registers });
    this.deliverLatency = new Histogram({ name: 'eventrelay_publish_to_deliver_seconds', help: 'Time from the source receiving an event to the client-server receiving it from the bus', buckets: LATENCY_BUCKETS, registers });
    this.slowConsumerDisconnects = new Counter({ name: 'eventrelay_slow_consumer_disconnects_total', help: 'Connections closed because they fell too far behind', registers });
    this.busReconnects = new Counter({ name: 'eventrelay_bus_reconnects_total', help: 'Times the bus connection to Redis was re-established', registers });
    this.backfilledEvents = new Counter({ name: 'eventrelay_backfilled_events_total', help: 'Events read back from history after a bus reconnect', registers });
    this.gaps = new Counter({ name: 'eventrelay_gaps_total', help: 'Channels whose continuity could not be proven after a bus reconnect', registers });
    this.canaryFailures = new Counter({ name: 'eventrelay_bus_canary_failures_total', help: 'Times the Redis subscriber connection missed its canaries and was forcibly reconnected', registers });
    // `receiver`: the URL's origin (never its path or query, which may hold a secret).
    this.webhookDeliveries = new Counter({ name: 'eventrelay_webhook_deliveries_total', help: 'Webhooks answered 2xx by their receiver', labelNames: ['receiver'], registers });
    this.webhookRetries = new Counter({ name: 'eventrelay_webhook_retries_total', help: 'Webhook attempts that failed (non-2xx or no answer in time) and will be retried', labelNames: ['receiver'], registers });
    this.webhookFailures = new Counter({ name: 'eventrelay_webhook_failures_total', help: 'Webhooks given up after WEBHOOK_GIVE_UP_SECONDS of failed attempts', labelNames: ['receiver'], registers });
    this.webhookQueueAge = new Gauge({ name: 'eventrelay_webhook_queue_age_seconds', help: 'Age of the oldest transition not yet delivered to every webhook URL (0: none), deployment-wide', registers });
    this.clientPublishes = new Counter({ name: 'eventrelay_client_publishes_total', help: 'WebSocket publish messages, by outcome (published, replayed, or the error code)', labelNames: ['outcome'], registers });
    this.presenceMemberships = new Gauge({ name: 'eventrelay_presence_memberships', help: 'Presence memberships (connection and channel) held by this client-server', registers });
    this.operatorDisconnects = new Counter({ name: 'eventrelay_operator_disconnects_total', help: 'Connections closed with 4003 by an operator disconnect', labelNames: ['transport'], registers });
    this.errors = new Counter({ name: 'eventrelay_errors_total', help: 'Errors answered to clients, by code', labelNames: ['code'], registers });
  }
}
