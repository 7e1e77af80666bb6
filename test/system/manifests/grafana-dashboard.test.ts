import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { byKind, K8S_DIR, kustomize, readRepoFile } from '../../support/manifests.js';
import { exportedSeries, metricNames, variableMetricNames } from '../../support/promql.js';
import { buildRelayApps, type RelayApps } from '../../support/relay-apps.js';

/**
 * The Grafana dashboard of the prometheus component reads only what the
 * services export: both apps are built as their main.ts files build them and
 * their /metrics read, and every metric named by a panel or a variable must
 * be among those series. A renamed metric, or a panel written for a metric
 * that does not exist, fails here instead of showing "No data" in production.
 */

const DASHBOARD_PATH = 'k8s/components/prometheus/grafana-dashboard.json';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const dashboard = JSON.parse(readRepoFile(DASHBOARD_PATH)) as Dashboard;

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every query of the dashboard with where it is, for the failure message. */
function queries(): { where: string; metrics: string[] }[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}": ${t.expr}`, metrics: metricNames(t.expr) })));
  const fromVariables = dashboard.templating.list
    .filter((v) => v.type === 'query' && v.query !== undefined)
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query!.query;
      return { where: `variable $${v.name}: ${query}`, metrics: variableMetricNames(query) };
    });
  return [...fromPanels, ...fromVariables];
}

let relay: RelayApps;
let exported: Set<string>;
beforeAll(async () => {
  relay = await buildRelayApps();
  exported = new Set<string>();
  for (const app of Object.values(relay.apps)) {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    for (const name of exportedSeries(response.body)) exported.add(name);
  }
});
afterAll(() => relay?.close());

describe('the Grafana dashboard', () => {
  test('reads only metrics that the source-server or the client-server exports', () => {
    const all = queries();
    expect(all.length).toBeGreaterThan(10);
    const unknown = all.flatMap(({ where, metrics }) => metrics.filter((m) => !exported.has(m)).map((m) => `${m} in ${where}`));
    expect(unknown).toEqual([]);
  });

  test('shows every eventrelay metric family the services export', () => {
    const used = new Set(queries().flatMap((q) => q.metrics));
    const families = [...exported].filter((name) => name.startsWith('eventrelay_')).map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    const missing = [...new Set(families)].filter((family) => ![...used].some((name) => name === family || name.startsWith(`${family}_`)));
    expect(missing).toEqual([]);
  });

  test('has the panels an operator looks for first', () => {
    const titles = allPanels(dashboard.panels).map((p) => p.title);
    for (const title of ['Connections', 'Subscriptions', 'Deliveries/s', 'Publish rate', 'Publish latency', 'Deliver latency', 'Slow-consumer cuts',
      'Bus reconnects and gaps', 'Canary failures', 'Errors by code', 'Event-loop lag (p99)', 'Resident memory']) {
      expect(titles).toContain(title);
    }
  });

  test('is shipped by the prometheus component as a ConfigMap the Grafana sidecar loads', () => {
    const objects = kustomize(join(K8S_DIR, 'overlays', 'dev'));
    const map = byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'eventrelay-grafana-dashboard');
    expect(map?.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(map!.data['eventrelay.json'] as string)).toEqual(dashboard);
  });
});

describe('reading metric names out of PromQL', () => {
  test('finds the selected metrics and nothing else (functions, labels, ranges, variables, numbers)', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{namespace=~"$namespace", x="rate(b)"}[$__rate_interval])))')).toEqual(['a_seconds_bucket']);
    expect(metricNames('sum(rate(a_total[5m] offset 1h)) / on (pod) group_left max(b) > bool 1e3')).toEqual(['a_total', 'b']);
    expect(metricNames('up')).toEqual(['up']);
  });

  test('reads the metric of a label_values variable, not its label', () => {
    expect(variableMetricNames('label_values(eventrelay_connections, namespace)')).toEqual(['eventrelay_connections']);
    expect(variableMetricNames('label_values(namespace)')).toEqual([]);
  });

  test('a query of a metric no service exports is caught', () => {
    expect(metricNames('sum(rate(eventrelay_no_such_thing_total[5m]))').filter((m) => !exported.has(m))).toEqual(['eventrelay_no_such_thing_total']);
  });
});
