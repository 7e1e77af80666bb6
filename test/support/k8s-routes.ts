import { byKind, type K8sObject } from './manifests.js';

/**
 * Where a rendered Ingress or HTTPRoute sends a request path, by the
 * matching rules of each API, so that a test can ask "does GET /sdk/x reach
 * the client-server?" of the shipped manifests.
 */

/** `Prefix` / `PathPrefix` match whole path elements: /v1/sse matches /v1/sse and /v1/sse/x, not /v1/ssex. */
function prefixMatches(prefix: string, path: string): boolean {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' || path === trimmed || path.startsWith(`${trimmed}/`);
}

interface Candidate {
  exact: boolean;
  length: number;
  service: string;
}

/** Longest match wins; at equal length Exact beats Prefix (both APIs say so). */
function best(candidates: Candidate[]): string | undefined {
  candidates.sort((a, b) => b.length - a.length || Number(b.exact) - Number(a.exact));
  return candidates[0]?.service;
}

interface IngressPath {
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  backend: { service: { name: string } };
}

/** The Service an Ingress sends `path` to, or undefined when no rule matches. */
export function ingressService(ingress: K8sObject, path: string): string | undefined {
  const paths = (ingress.spec.rules as { http: { paths: IngressPath[] } }[]).flatMap((r) => r.http.paths);
  const candidates = paths
    .filter((p) => (p.pathType === 'Exact' ? p.path === path : prefixMatches(p.path, path)))
    .map((p) => ({ exact: p.pathType === 'Exact', length: p.path.length, service: p.backend.service.name }));
  return best(candidates);
}

interface RouteRule {
  matches: { path: { type: 'Exact' | 'PathPrefix'; value: string } }[];
  backendRefs: { name: string }[];
}

/** The Service an HTTPRoute sends `path` to, or undefined when no match does. */
export function httpRouteService(route: K8sObject, path: string): string | undefined {
  const candidates = (route.spec.rules as RouteRule[]).flatMap((rule) =>
    rule.matches
      .filter((m) => (m.path.type === 'Exact' ? m.path.value === path : prefixMatches(m.path.value, path)))
      .map((m) => ({ exact: m.path.type === 'Exact', length: m.path.value.length, service: rule.backendRefs[0]!.name })),
  );
  return best(candidates);
}

/** Every router of a rendering (Ingress and HTTPRoute objects), each with its lookup. */
export function routers(objects: K8sObject[]): { name: string; serviceFor(path: string): string | undefined }[] {
  return [
    ...byKind(objects, 'Ingress').map((o) => ({ name: `Ingress/${o.metadata.name}`, serviceFor: (p: string) => ingressService(o, p) })),
    ...byKind(objects, 'HTTPRoute').map((o) => ({ name: `HTTPRoute/${o.metadata.name}`, serviceFor: (p: string) => httpRouteService(o, p) })),
  ];
}
