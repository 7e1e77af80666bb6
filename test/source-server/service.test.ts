import { describe, expect, test } from 'vitest';
import type { Bus } from '../../services/engine/bus.js';
import type { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { RelayError } from '../../services/protocol/errors.js';
import { Lifecycle } from '../../services/runtime/lifecycle.js';
import type { SourceMetrics } from '../../services/source-server/source-metrics.js';
import { AUTH, errorCode, publish, publishBatch, useSource } from '../support/source-app.js';
import { engineOf } from '../support/engines.js';

/** A MemoryBus whose publish fails: it simulates a bus failure, the one place a stand-in is fair. */
function failingBus(error: Error): (bus: MemoryBus) => Bus {
  return (bus) =>
    Object.assign(Object.create(bus) as MemoryBus, {
      publish: () => Promise.reject(error),
    });
}

describe('errors', () => {
  test('an unknown route is 404 not_found with a coded body', async () => {
    const { app } = useSource();
    const response = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  test('a wrong method on a publish route is 404 not_found with a coded body', async () => {
    const { app } = useSource();
    const response = await app.inject({ method: 'GET', url: '/v1/events', headers: AUTH });
    expect(response.statusCode).toBe(404);
    expect(errorCode(response)).toBe('not_found');
  });

  test('a bus that is unavailable makes a publish 503 unavailable with Retry-After', async () => {
    const { app } = useSource({ wrapBus: failingBus(new RelayError('unavailable', 'Redis is unreachable.')) });
    const response = await publish(app, 'news', '{}');
    expect(response.statusCode).toBe(503);
    expect(errorCode(response)).toBe('unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  test('a bus that is unavailable makes a batch 503 unavailable with Retry-After', async () => {
    const { app } = useSource({ wrapBus: failingBus(new RelayError('unavailable', 'Redis is unreachable.', { retryAfter: 3 })) });
    const response = await publishBatch(app, { events: [{ channel: 'a', data: 1 }] });
    expect(response.statusCode).toBe(503);
    expect(errorCode(response)).toBe('unavailable');
    expect(response.headers['retry-after']).toBe('3');
  });

  test('an unexpected bus error is 500 internal, logged, and the client sees no stack trace', async () => {
    const { app, logs } = useSource({ wrapBus: failingBus(new Error('connection reset by gremlins')) });
    const response = await publish(app, 'news', '{}');
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'internal', message: expect.any(String) } });
    expect(response.body).not.toContain('gremlins');
    expect(response.body).not.toMatch(/\bat .*\.ts:\d+/);
    expect(logs.some((l) => l.level >= 50 && JSON.stringify(l).includes('gremlins'))).toBe(true);
  });
});

describe('draining', () => {
  test('while draining a publish is 503 unavailable with Retry-After and stores nothing', async () => {
    const { app, lifecycle, stored } = useSource();
    lifecycle.startDraining();
    const response = await publish(app, 'news', '{}');
    expect(response.statusCode).toBe(503);
    expect(errorCode(response)).toBe('unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(await stored('news')).toEqual([]);
  });

  test('while draining a batch is 503 unavailable with Retry-After', async () => {
    const { app, lifecycle } = useSource();
    lifecycle.startDraining();
    const response = await publishBatch(app, { events: [{ channel: 'a', data: 1 }] });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
  });

  test('closing the app waits for a publish in flight, which is then answered 200', async () => {
    let entered!: () => void;
    const busReached = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { app, lifecycle } = useSource({
      wrapBus: (bus) =>
        Object.assign(Object.create(bus) as MemoryBus, {
          publish: async (events: Parameters<Bus['publish']>[0]) => {
            entered();
            await gate;
            return bus.publish(events);
          },
        }),
    });
    const inFlight = publish(app, 'news', '{}');
    await busReached;
    lifecycle.startDraining();
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    expect((await inFlight).statusCode).toBe(200);
    await closing;
    expect(closed).toBe(true);
  });

  test('the app exposes the lifecycle and metrics it uses, defaults included', async () => {
    const { app, lifecycle, metrics } = useSource();
    expect(app.getDecorator<Lifecycle>('lifecycle')).toBe(lifecycle);
    expect(app.getDecorator<SourceMetrics>('metrics')).toBe(metrics);
  });
});

describe('operations endpoints', () => {
  test('/healthz answers 200 without credentials', async () => {
    const { app } = useSource();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  test('/readyz answers 200 when serving and 503 unavailable while draining', async () => {
    const { app, lifecycle } = useSource();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    lifecycle.startDraining();
    const draining = await app.inject({ method: 'GET', url: '/readyz' });
    expect(draining.statusCode).toBe(503);
    expect(errorCode(draining)).toBe('unavailable');
  });

  test('/metrics counts published and replayed events in Prometheus text', async () => {
    const { app } = useSource();
    await publish(app, 'a', '1', { 'idempotency-key': 'k' });
    await publish(app, 'a', '1', { 'idempotency-key': 'k' });
    await publishBatch(app, { events: [{ channel: 'b', data: 1 }, { channel: 'b', data: 2 }] });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^eventrelay_events_published_total 3$/m);
    expect(response.body).toMatch(/^eventrelay_events_replayed_total 1$/m);
    expect(response.body).toMatch(/^eventrelay_publish_duration_seconds_count 3$/m);
  });

  test('/metrics counts answered errors by code', async () => {
    const { app } = useSource();
    await publish(app, 'a', '{', {});
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).toMatch(/^eventrelay_errors_total\{[^}]*code="invalid_json"[^}]*\} 1$/m);
  });

  test('the default SourceMetrics is created when none is given', async () => {
    // useSource passes its own; this checks the default path stays wired.
    const { buildSourceApp } = await import('../../services/source-server/app.js');
    const source = useSource();
    const app = buildSourceApp({ config: source.config, logger: source.logger, engine: engineOf(source.bus) });
    try {
      await publish(app, 'a', '1');
      const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(body).toMatch(/^eventrelay_events_published_total 1$/m);
    } finally {
      await app.close();
    }
  });
});
