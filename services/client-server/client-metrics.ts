import { Counter, Gauge, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, ServiceMetrics, type ServiceMetricsOptions } from '../runtime/metrics.js';

/** The client-server's registry: every service's families plus what subscribers, deliveries and client messages count. */
export class ClientMetrics extends ServiceMetrics {
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly eventsDelivered: Counter;
  readonly deliverLatency: Histogram;
  readonly slowConsumerDisconnects: Counter;
  readonly clientPublishes: Counter;
  readonly presenceMemberships: Gauge;
  readonly operatorDisconnects: Counter;

  constructor(options: ServiceMetricsOptions = {}) {
    super(options);
    const registers = [this.registry];
    this.connections = new Gauge({ name: 'eventrelay_connections', help: 'Open subscriber connections', labelNames: ['transport'], registers });
    this.subscriptions = new Gauge({ name: 'eventrelay_subscriptions', help: 'Active channel subscriptions of subscriber connections', registers });
    this.eventsDelivered = new Counter({ name: 'eventrelay_events_delivered_total', help: 'Events written to subscriber connections', labelNames: ['transport'], registers });
    this.deliverLatency = new Histogram({
      name: 'eventrelay_publish_to_deliver_seconds',
      help: 'Time from the source receiving an event to the client-server receiving it from the bus',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.slowConsumerDisconnects = new Counter({ name: 'eventrelay_slow_consumer_disconnects_total', help: 'Connections closed because they fell too far behind', registers });
    this.clientPublishes = new Counter({
      name: 'eventrelay_client_publishes_total',
      help: 'WebSocket publish messages, by outcome (published, replayed, or the error code)',
      labelNames: ['outcome'],
      registers,
    });
    this.presenceMemberships = new Gauge({ name: 'eventrelay_presence_memberships', help: 'Presence memberships (connection and channel) held by this client-server', registers });
    this.operatorDisconnects = new Counter({ name: 'eventrelay_operator_disconnects_total', help: 'Connections closed with 4003 by an operator disconnect', labelNames: ['transport'], registers });
  }
}
