import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { ServiceMetrics, TARGET_LABELS } from '../../services/runtime/metrics.js';
import { freePort } from '../../tools/ports.js';
import { stopChild } from '../support/local-stack.js';
import { buildRelayApps, type RelayApps } from '../support/relay-apps.js';

/**
 * Each service exports its own metric families and no other: the
 * source-server what publishing counts, the client-server what subscribers
 * count and its engine's subscription counters, both the families every
 * service has and, with WEBHOOK_URLS, the webhook ones. No exported label
 * may be one Prometheus attaches to the target itself.
 */

const COMMON = ['eventrelay_errors_total'];
const SOURCE = ['eventrelay_events_published_total', 'eventrelay_events_replayed_total', 'eventrelay_publish_duration_seconds'];
const CLIENT = [
  'eventrelay_connections',
  'eventrelay_subscriptions',
  'eventrelay_events_delivered_total',
  'eventrelay_publish_to_deliver_seconds',
  'eventrelay_slow_consumer_disconnects_total',
  'eventrelay_client_publishes_total',
  'eventrelay_presence_memberships',
  'eventrelay_operator_disconnects_total',
];
const SUBSCRIPTION = ['eventrelay_bus_reconnects_total', 'eventrelay_backfilled_events_total', 'eventrelay_gaps_total', 'eventrelay_bus_canary_failures_total'];
const WEBHOOKS = ['eventrelay_webhook_deliveries_total', 'eventrelay_webhook_retries_total', 'eventrelay_webhook_failures_total', 'eventrelay_webhook_queue_age_seconds'];

/** The eventrelay families of an exposition, from its `# TYPE` lines (a family without samples yet counts). */
function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (eventrelay_\S+) /gm)].map((m) => m[1]!).sort();
}

/** Every label name on any sample line. */
function labelNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, labels] of text.matchAll(/^[a-zA-Z_:][a-zA-Z0-9_:]*\{([^}]*)\} /gm)) {
    for (const [, name] of labels!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(name!);
  }
  return names;
}

const sorted = (...lists: string[][]) => lists.flat().sort();

describe('the apps as their main.ts files build them', () => {
  let relay: RelayApps;
  const text: Record<string, string> = {};
  beforeAll(async () => {
    relay = await buildRelayApps();
    // Some traffic, so that labelled families have samples whose labels can be read.
    await relay.apps['source-server'].inject({ method: 'POST', url: '/v1/channels/a/events', headers: { 'content-type': 'application/json' }, payload: '1' });
    for (const [name, app] of Object.entries(relay.apps)) {
      await app.inject({ method: 'GET', url: '/v1/nothing-here' });
      text[name] = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    }
  });
  afterAll(() => relay?.close());

  test('the client-server exports no eventrelay_publish_* family and none of the source-server\'s', () => {
    expect(families(text['client-server']!).filter((f) => f.startsWith('eventrelay_publish_') && f !== 'eventrelay_publish_to_deliver_seconds')).toEqual([]);
    expect(families(text['client-server']!)).toEqual(sorted(COMMON, CLIENT, SUBSCRIPTION, WEBHOOKS));
  });

  test('the source-server exports none of the client-server\'s families, nor the subscription counters it has no subscription for', () => {
    expect(families(text['source-server']!)).toEqual(sorted(COMMON, SOURCE, WEBHOOKS));
  });

  test('both export the process metrics', () => {
    for (const body of Object.values(text)) expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  test('no exported label is one Prometheus gives the target (it would arrive as exported_<name>)', () => {
    for (const body of Object.values(text)) {
      const names = labelNames(body);
      expect(names.has('code')).toBe(true);
      expect(TARGET_LABELS.filter((l) => names.has(l))).toEqual([]);
    }
    expect(TARGET_LABELS).toEqual(expect.arrayContaining(['service', 'job', 'instance', 'namespace', 'pod', 'container', 'endpoint']));
  });
});

describe('the engine', () => {
  test('registers its families on the registry it is given: subscription counters only when it subscribes, webhook ones only with WEBHOOK_URLS', async () => {
    const logger = pino({ level: 'silent' });
    const plain = loadConfig({ AUTH_DISABLED: 'true' });
    const cases = [
      { config: plain, subscribe: false, expected: [] },
      { config: plain, subscribe: true, expected: SUBSCRIPTION },
      { config: loadConfig({ AUTH_DISABLED: 'true', WEBHOOK_URLS: 'http://127.0.0.1:9/hook', WEBHOOK_SECRET: 'w'.repeat(32) }), subscribe: false, expected: WEBHOOKS },
    ];
    for (const { config, subscribe, expected } of cases) {
      const metrics = new ServiceMetrics({ defaultMetrics: false });
      const engine = createEngine({ config, logger, registry: metrics.registry }, { subscribe });
      try {
        expect(families(await metrics.registry.metrics())).toEqual(sorted(COMMON, expected));
      } finally {
        await engine.close();
      }
    }
  });
});

describe('the embedded mode (npm start, a real process)', () => {
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));

  test('keeps two registries on its two ports, each with its own service\'s families', async () => {
    const [sourcePort, clientPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['dist/services/embedded/main.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', SOURCE_PORT: String(sourcePort), CLIENT_PORT: String(clientPort), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const metricsOf = async (port: number) => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : undefined), () => undefined);
          if (body !== undefined) return body;
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`embedded mode did not answer /metrics on ${port}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const [source, client] = [await metricsOf(sourcePort), await metricsOf(clientPort)];
      expect(families(source)).toEqual(sorted(COMMON, SOURCE));
      expect(families(client)).toEqual(sorted(COMMON, CLIENT, SUBSCRIPTION));
      for (const body of [source, client]) expect(TARGET_LABELS.filter((l) => labelNames(body).has(l))).toEqual([]);
    } finally {
      await stopChild(child, 'SIGKILL');
    }
  });
});
