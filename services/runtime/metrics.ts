import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds, from sub-millisecond to the multi-second tail. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Labels Prometheus (and the Prometheus Operator's ServiceMonitors) attach to
 * every scraped series to say where it came from. An exported label of the
 * same name is renamed `exported_<name>` on ingestion, so no family of ours
 * may use one (test/runtime/metrics.test.ts checks both apps' /metrics).
 */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'service', 'pod', 'container', 'endpoint'] as const;

export interface ServiceMetricsOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC). Default true; tests turn them off. */
  defaultMetrics?: boolean;
}

/**
 * One service's registry (never prom-client's global one, so that the
 * embedded mode runs two services in one process, each with its own registry
 * on its own port, and tests build many) and the families every service has:
 * answered errors by code and the process metrics. Each service adds its own
 * families (source-metrics.ts, client-metrics.ts) and its engine registers
 * the engine's (engine/engine-metrics.ts); nothing else is exported.
 *
 * No default label names the service: the scrape target already does (`job`,
 * `instance`, and with the Prometheus Operator `service`, `pod`,
 * `namespace`), so a `service` label of our own collided with the
 * Operator's and arrived as `exported_service`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly errors: Counter;

  constructor(options: ServiceMetricsOptions = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.errors = new Counter({ name: 'eventrelay_errors_total', help: 'Errors answered to clients, by code', labelNames: ['code'], registers: [this.registry] });
  }
}

