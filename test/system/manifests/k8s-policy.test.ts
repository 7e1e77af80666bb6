import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../../services/runtime/config/load.js';
import { DEFAULT_DRAIN_WINDOW_SECONDS } from '../../../services/runtime/config/schema.js';
import { allRenderings, byKind, kustomize, K8S_DIR, type K8sObject } from '../../support/manifests.js';
import { join } from 'node:path';

/**
 * The hardening and lifecycle rules every pod follows (microservices-demo's
 * habits), checked on the rendered output of every overlay, so that a patch
 * in an overlay cannot quietly undo them.
 */

const SERVICES = ['source-server', 'client-server'] as const;
/** Time for the last in-flight writes after the drain window; what grace must still leave. */
const GRACE_MARGIN_SECONDS = 5;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

function podSpec(deployment: K8sObject): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return deployment.spec.template.spec;
}

function drainWindowSeconds(objects: K8sObject[]): number {
  const config = byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'eventrelay-config');
  const value = config?.data?.DRAIN_WINDOW_SECONDS as string | undefined;
  return value === undefined ? DEFAULT_DRAIN_WINDOW_SECONDS : Number(value);
}

/** A Kubernetes memory quantity in MiB (the Mi and Gi forms these manifests use). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

function preStopSleepSeconds(container: Container): number {
  const command = container.lifecycle?.preStop?.exec?.command as string[] | undefined;
  if (command?.[0] !== 'sleep') return 0;
  return Number(command[1]);
}

describe.each(allRenderings())('the $name rendering', ({ objects }) => {
  const deployments = byKind(objects, 'Deployment');

  test.each(deployments.map((d) => [d.metadata.name, d] as const))('%s pods are hardened', (_name, deployment) => {
    const pod = podSpec(deployment);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    for (const container of pod.containers as Container[]) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.securityContext.privileged ?? false).toBe(false);
    }
  });

  test.each(deployments.map((d) => [d.metadata.name, d] as const))('%s has probes, requests and limits', (_name, deployment) => {
    for (const container of podSpec(deployment).containers as Container[]) {
      expect(container.readinessProbe).toBeDefined();
      expect(container.livenessProbe).toBeDefined();
      expect(container.startupProbe).toBeDefined();
      for (const bound of ['requests', 'limits']) {
        expect(container.resources?.[bound]?.cpu, `${bound}.cpu`).toBeDefined();
        expect(container.resources?.[bound]?.memory, `${bound}.memory`).toBeDefined();
      }
    }
  });

  test.each(SERVICES)('%s is one name end to end: Deployment, label, container, image, ServiceAccount, Service, HPA, PDB', (name) => {
    const deployment = deployments.find((d) => d.metadata.name === name);
    expect(deployment, `Deployment ${name}`).toBeDefined();
    const pod = podSpec(deployment!);
    expect(deployment!.spec.selector.matchLabels).toEqual({ app: name });
    expect(deployment!.spec.template.metadata.labels.app).toBe(name);
    expect(pod.serviceAccountName).toBe(name);
    expect(pod.containers[0].name).toBe(name);
    expect(pod.containers[0].image).toMatch(new RegExp(`^eventrelay/${name}(:|@|$)`));
    for (const kind of ['Service', 'ServiceAccount', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      expect(byKind(objects, kind).map((o) => o.metadata.name), kind).toContain(name);
    }
    const service = byKind(objects, 'Service').find((s) => s.metadata.name === name)!;
    expect(service.spec.selector).toEqual({ app: name });
    const hpa = byKind(objects, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === name)!;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
    expect(deployment!.spec.replicas, 'the HPA owns the replica count').toBeUndefined();
    const pdb = byKind(objects, 'PodDisruptionBudget').find((p) => p.metadata.name === name)!;
    expect(pdb.spec.selector.matchLabels).toEqual({ app: name });
  });

  test.each(SERVICES)('%s probes /healthz and /readyz and drains within its grace period', (name) => {
    const pod = podSpec(deployments.find((d) => d.metadata.name === name)!);
    const container = pod.containers[0] as Container;
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const preStop = preStopSleepSeconds(container);
    expect(preStop, 'preStop sleep lets endpoints drop the pod before SIGTERM').toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drainWindowSeconds(objects) + GRACE_MARGIN_SECONDS);
  });

  test('client-server scales out on memory before its pods reach their memory limit (idle connections cost memory, not CPU)', () => {
    const hpa = byKind(objects, 'HorizontalPodAutoscaler').find((h) => h.metadata.name === 'client-server')!;
    const memory = (hpa.spec.metrics as { resource?: { name: string; target: { averageValue?: string } } }[]).find((m) => m.resource?.name === 'memory');
    expect(memory?.resource?.target.averageValue, 'a memory target').toBeDefined();
    const limit = podSpec(deployments.find((d) => d.metadata.name === 'client-server')!).containers[0].resources.limits.memory as string;
    expect(mebibytes(memory!.resource!.target.averageValue!)).toBeLessThan(mebibytes(limit));
  });

  test('the Ingress keeps WebSocket and SSE streams open and routes to existing Services', () => {
    const services = new Set(byKind(objects, 'Service').map((s) => s.metadata.name));
    for (const ingress of byKind(objects, 'Ingress')) {
      const annotations = ingress.metadata.annotations ?? {};
      expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
      expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
      for (const rule of ingress.spec.rules) {
        for (const path of rule.http.paths) expect(services).toContain(path.backend.service.name);
      }
    }
  });

  test('only source-server and client-server may reach an in-cluster Redis', () => {
    if (!deployments.some((d) => d.metadata.name === 'redis')) return;
    const policy = byKind(objects, 'NetworkPolicy').find((p) => p.spec.podSelector.matchLabels?.app === 'redis');
    expect(policy, 'a NetworkPolicy selecting app: redis').toBeDefined();
    expect(policy!.spec.policyTypes).toContain('Ingress');
    const peers = (policy!.spec.ingress as { from: { podSelector?: { matchLabels: { app: string } } }[] }[])
      .flatMap((rule) => rule.from)
      .map((peer) => peer.podSelector?.matchLabels.app ?? 'anything');
    expect(peers.sort()).toEqual(['client-server', 'source-server']);
  });
});

describe('the production overlay', () => {
  const objects = kustomize(join(K8S_DIR, 'overlays', 'production'));

  test('runs no Redis of its own: REDIS_URL names a managed or HA one', () => {
    expect(byKind(objects, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(['client-server', 'source-server']);
  });

  test('carries no credentials: the Secret is created outside the repository', () => {
    expect(byKind(objects, 'Secret')).toEqual([]);
  });

  test('ships ALLOWED_ORIGINS as a placeholder the config schema refuses, so neither service starts until it is set', () => {
    const config = byKind(objects, 'ConfigMap').find((c) => c.metadata.name === 'eventrelay-config')!;
    const origins = config.data.ALLOWED_ORIGINS as string;
    expect(() => loadConfig({ ALLOWED_ORIGINS: origins })).toThrow(ConfigError);
    expect(() => loadConfig({ ALLOWED_ORIGINS: origins })).toThrow(/ALLOWED_ORIGINS: "REPLACE_ME/);
  });

  test('pins image tags', () => {
    for (const d of byKind(objects, 'Deployment')) expect(podSpec(d).containers[0].image).toMatch(/:(\d+\.\d+\.\d+)|@sha256:/);
  });
});
