import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Bus, OutgoingEvent, PublishResult } from '../engine/bus.js';
import { RelayError, drainingError } from '../protocol/errors.js';
import type { Lifecycle } from '../runtime/lifecycle.js';
import type { SourceMetrics } from './source-metrics.js';

export interface PublisherDeps {
  bus: Bus;
  lifecycle: Lifecycle;
  metrics: SourceMetrics;
  logger: Logger;
  /** Wall clock for event `ts`; injected for tests. Default Date.now. */
  now?: () => number;
}

interface Received {
  /** Event `ts`: wall-clock ms when the request arrived. */
  ts: number;
  /** Monotonic start for the publish latency histogram. */
  start: bigint;
}

/**
 * The one way the routes store events: refuses while draining, tracks the
 * publish so shutdown can await it, maps bus failures to `unavailable` with
 * Retry-After, and records metrics. Receive times are kept per request in a
 * WeakMap rather than as a fastify request decoration, so that no global type
 * augmentation is needed and nothing outlives the request.
 */
export class Publisher {
  private readonly received = new WeakMap<FastifyRequest, Received>();
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: PublisherDeps) {
    this.logger = deps.logger.child({ component: 'publisher' });
    this.now = deps.now ?? Date.now;
  }

  /** onRequest: the moment the request arrived, before auth and body. */
  markReceived(request: FastifyRequest): void {
    this.received.set(request, { ts: this.now(), start: process.hrtime.bigint() });
  }

  /** onRequest: new publishes are refused once shutdown has begun. */
  refuseWhileDraining(): void {
    if (this.deps.lifecycle.isDraining) throw drainingError();
  }

  /** The event `ts` of this request (PROTOCOL.md: the receive time). */
  receivedAt(request: FastifyRequest): number {
    return this.receivedOf(request).ts;
  }

  /** Stores `events` as one all-or-nothing bus publish; resolves once they are stored. */
  async publish(request: FastifyRequest, events: OutgoingEvent[]): Promise<PublishResult[]> {
    // Checked again here: draining may have begun while the body was uploading.
    this.refuseWhileDraining();
    const { bus, lifecycle, metrics } = this.deps;
    // Bus failures are RelayErrors already (`unavailable`, which always carries Retry-After).
    const results = await lifecycle.track(() => bus.publish(events));
    if (results.length !== events.length) {
      // Never 2xx for an event that may not be stored (PROTOCOL.md).
      throw new RelayError('internal', undefined, {
        cause: new Error(`bus answered ${results.length} results for ${events.length} events`),
      });
    }
    const elapsedNs = process.hrtime.bigint() - this.receivedOf(request).start;
    metrics.publishLatency.observe(Number(elapsedNs) / 1e9);
    let replayed = 0;
    for (const result of results) if (result.replayed) replayed++;
    if (results.length > replayed) metrics.eventsPublished.inc(results.length - replayed);
    if (replayed > 0) metrics.eventsReplayed.inc(replayed);
    this.logger.debug({ reqId: request.id, events: results.length, replayed }, 'published');
    return results;
  }

  private receivedOf(request: FastifyRequest): Received {
    let received = this.received.get(request);
    if (!received) {
      // Only reachable if a route forgot the onRequest hook; fall back to now.
      received = { ts: this.now(), start: process.hrtime.bigint() };
      this.received.set(request, received);
    }
    return received;
  }
}
