import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpRouteService, routers } from '../../support/k8s-routes.js';
import { allRenderings, type K8sObject } from '../../support/manifests.js';
import { appRoutes, buildRelayApps, type AppRoute, type RelayApps } from '../../support/relay-apps.js';

/**
 * The Ingress and the HTTPRoute route what the apps actually serve: every
 * route of the source-server and the client-server (read from the built
 * apps, so a new route is checked without editing this file) reaches its own
 * Service, and the operations routes reach none (metrics stay inside the
 * cluster, scraped through the Services).
 */

const OPS_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

let relay: RelayApps;
beforeAll(async () => {
  relay = await buildRelayApps();
});
afterAll(() => relay?.close());

/** A concrete path the pattern matches (`/v1/sse/:channel` → `/v1/sse/x`); wildcards (CORS preflight) have none. */
function examplePath(route: AppRoute): string | undefined {
  if (route.path.includes('*')) return undefined;
  return route.path.replace(/:[^/]+/g, 'x');
}

function servedPaths(): { service: string; path: string }[] {
  return Object.entries(relay.apps).flatMap(([service, app]) =>
    appRoutes(app).flatMap((route) => {
      const path = examplePath(route);
      return path === undefined ? [] : [{ service, path }];
    }),
  );
}

describe('the apps', () => {
  test('serve the routes this check is about (the route tree was read)', () => {
    const paths = servedPaths().map((p) => `${p.service} ${p.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'source-server /v1/events',
        'source-server /v1/channels/x/events',
        'client-server /v1/ws',
        'client-server /v1/sse/x',
        'client-server /',
        'client-server /console/x',
        'client-server /sdk/eventrelay.js',
        'client-server /healthz',
      ]),
    );
  });
});

describe.each(allRenderings().filter((r) => routers(r.objects).length > 0))('the $name rendering', ({ objects }: { objects: K8sObject[] }) => {
  test.each(routers(objects).map((r) => [r.name, r] as const))('%s sends every route the apps serve to the Service that serves it', (_name, router) => {
    const wrong = servedPaths()
      .filter(({ path }) => !OPS_ROUTES.has(path))
      .map(({ service, path }) => ({ path, expected: service, routedTo: router.serviceFor(path) ?? 'nothing' }))
      .filter((r) => r.routedTo !== r.expected);
    expect(wrong).toEqual([]);
  });

  test.each(routers(objects).map((r) => [r.name, r] as const))('%s routes none of /healthz, /readyz, /metrics', (_name, router) => {
    expect([...OPS_ROUTES].filter((path) => router.serviceFor(path) !== undefined)).toEqual([]);
  });
});

describe('path matching', () => {
  const route: K8sObject = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'x' },
    spec: {
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/v1/sse' } }], backendRefs: [{ name: 'sse' }] },
        { matches: [{ path: { type: 'Exact', value: '/' } }], backendRefs: [{ name: 'root' }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'rest' }] },
      ],
    },
  };

  test('a prefix matches whole path elements, and the longest match wins', () => {
    expect(httpRouteService(route, '/v1/sse/news')).toBe('sse');
    expect(httpRouteService(route, '/v1/sse')).toBe('sse');
    expect(httpRouteService(route, '/v1/ssex')).toBe('rest');
  });

  test('at equal length Exact beats a prefix', () => {
    expect(httpRouteService(route, '/')).toBe('root');
  });
});
