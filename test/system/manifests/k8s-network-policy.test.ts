import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { byKind, K8S_DIR, kustomize, renderProductionWithAllComponents, type K8sObject } from '../../support/manifests.js';
import { connectionAllowed, type Endpoint } from '../../support/network-policy.js';

/**
 * Production's NetworkPolicies, checked as flows a cluster would allow or
 * refuse: the public side only through the ingress controller's namespace,
 * /metrics only to Prometheus, and the services' own traffic only to DNS and
 * Redis, with the in-cluster Redis component left out (the production
 * overlay) and with it (every component).
 */

const SERVICES = ['source-server', 'client-server'] as const;
const NAMESPACE = 'eventrelay';
const INGRESS_CONTROLLER: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
const PROMETHEUS: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const KUBE_DNS: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
/** A managed Redis outside the cluster (rediss:// on 6380, as in secret.example.yaml). */
const MANAGED_REDIS: Endpoint = { ip: '10.20.30.40' };
const SOME_HOST: Endpoint = { ip: '93.184.216.34' };

/** The pod a Deployment runs, as a policy sees it: its namespace, template labels and named ports. */
function pod(objects: K8sObject[], name: string): { namespace: string; labels: Record<string, string>; ports: Record<string, number> } {
  const deployment = byKind(objects, 'Deployment').find((d) => d.metadata.name === name);
  if (!deployment) throw new Error(`no Deployment ${name}`);
  const ports: Record<string, number> = {};
  for (const c of deployment.spec.template.spec.containers) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
  return { namespace: deployment.metadata.namespace ?? '', labels: deployment.spec.template.metadata.labels, ports };
}

const renderings = [
  { name: 'the production overlay (no in-cluster Redis)', objects: kustomize(join(K8S_DIR, 'overlays', 'production')) },
  { name: 'production with every component (in-cluster Redis too)', objects: renderProductionWithAllComponents() },
];

describe.each(renderings)('$name', ({ objects }) => {
  const allowed = (from: Endpoint, to: Endpoint, number: number, protocol: 'TCP' | 'UDP' = 'TCP') => connectionAllowed(objects, from, to, { number, protocol });

  test('denies everything by default: a policy selects every pod for ingress and egress', () => {
    const deny = byKind(objects, 'NetworkPolicy').find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny?.spec.policyTypes?.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny?.spec.ingress ?? []).toEqual([]);
    expect(deny?.spec.egress ?? []).toEqual([]);
  });

  test.each(SERVICES)('%s is reached by the ingress controller and Prometheus only', (name) => {
    const target = pod(objects, name);
    const port = target.ports.http!;
    expect(allowed(INGRESS_CONTROLLER, target, port)).toBe(true);
    expect(allowed(PROMETHEUS, target, port)).toBe(true);
    expect(allowed({ namespace: 'default', labels: { app: 'curious' } }, target, port)).toBe(false);
    expect(allowed({ namespace: NAMESPACE, labels: { app: 'neighbour' } }, target, port)).toBe(false);
    expect(allowed(SOME_HOST, target, port)).toBe(false);
  });

  test.each(SERVICES)('%s reaches DNS and Redis, and nothing else', (name) => {
    const self = pod(objects, name);
    expect(allowed(self, KUBE_DNS, 53, 'UDP')).toBe(true);
    expect(allowed(self, KUBE_DNS, 53, 'TCP')).toBe(true);
    expect(allowed(self, MANAGED_REDIS, 6380)).toBe(true);
    expect(allowed(self, MANAGED_REDIS, 6379)).toBe(true);
    expect(allowed(self, SOME_HOST, 443)).toBe(false);
    // The two services talk only through Redis.
    const other = pod(objects, name === 'source-server' ? 'client-server' : 'source-server');
    expect(allowed(self, other, other.ports.http!)).toBe(false);
  });

  test("cert-manager's HTTP-01 solver pod is reached by the ingress controller, so TLS certificates can be issued", () => {
    const solver: Endpoint = { namespace: NAMESPACE, labels: { 'acme.cert-manager.io/http01-solver': 'true' } };
    expect(allowed(INGRESS_CONTROLLER, solver, 8089)).toBe(true);
    expect(allowed({ namespace: 'default', labels: {} }, solver, 8089)).toBe(false);
  });

  test('an in-cluster Redis, when present, is reached by the services only', () => {
    if (!byKind(objects, 'Deployment').some((d) => d.metadata.name === 'redis')) return;
    const redis = pod(objects, 'redis');
    for (const name of SERVICES) expect(allowed(pod(objects, name), redis, 6379), name).toBe(true);
    expect(allowed(INGRESS_CONTROLLER, redis, 6379)).toBe(false);
    expect(allowed({ namespace: NAMESPACE, labels: { app: 'neighbour' } }, redis, 6379)).toBe(false);
  });
});

describe('the flow check itself', () => {
  const open: K8sObject[] = [];
  test('allows everything when no policy selects a pod (as Kubernetes does)', () => {
    expect(connectionAllowed(open, { namespace: 'a', labels: {} }, { namespace: 'b', labels: {} }, { number: 80 })).toBe(true);
  });
});
