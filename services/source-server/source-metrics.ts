import { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, ServiceMetrics, type ServiceMetricsOptions } from '../runtime/metrics.js';

/** The source-server's registry: every service's families plus what publishing counts. */
export class SourceMetrics extends ServiceMetrics {
  readonly eventsPublished: Counter;
  readonly eventsReplayed: Counter;
  readonly publishLatency: Histogram;

  constructor(options: ServiceMetricsOptions = {}) {
    super(options);
    const registers = [this.registry];
    this.eventsPublished = new Counter({ name: 'eventrelay_events_published_total', help: 'Events stored and published', registers });
    this.eventsReplayed = new Counter({ name: 'eventrelay_events_replayed_total', help: 'Publishes answered from an idempotency key', registers });
    this.publishLatency = new Histogram({
      name: 'eventrelay_publish_duration_seconds',
      help: 'Time from request received to event stored and published',
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }
}
