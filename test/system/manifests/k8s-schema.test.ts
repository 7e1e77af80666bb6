import { describe, expect, test } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { allRenderings, byKind, parseObjects, readRepoFile, type K8sObject } from '../../support/manifests.js';

/**
 * Every rendered object is validated offline against the Kubernetes OpenAPI
 * schemas (kubernetes-models). A kind missing from SCHEMAS fails the check:
 * adding a kind means adding its schema here, not skipping it.
 */
interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const SCHEMAS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/**
 * Custom resources have no schema in kubernetes-models (the matching
 * @kubernetes-models packages need another major version of it); their
 * references are checked against the rendered Services below instead.
 */
const CUSTOM_KINDS = new Set(['gateway.networking.k8s.io/v1/HTTPRoute', 'monitoring.coreos.com/v1/ServiceMonitor']);

function validate(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  if (CUSTOM_KINDS.has(key)) return;
  const Model = SCHEMAS[key];
  if (!Model) throw new Error(`no schema for ${key} (${object.metadata.name}): add its kubernetes-models class to SCHEMAS`);
  new Model(object as never).validate();
}

function servicePorts(objects: K8sObject[]): Map<string, { numbers: number[]; names: string[] }> {
  const out = new Map<string, { numbers: number[]; names: string[] }>();
  for (const s of byKind(objects, 'Service')) {
    const ports = s.spec.ports as { port: number; name?: string }[];
    out.set(s.metadata.name, { numbers: ports.map((p) => p.port), names: ports.map((p) => p.name ?? '') });
  }
  return out;
}

describe.each(allRenderings())('the $name rendering', ({ objects }) => {
  test('has objects', () => {
    expect(objects.length).toBeGreaterThan(5);
  });

  test('validates every object against the Kubernetes schemas', () => {
    const failures: string[] = [];
    for (const object of objects) {
      try {
        validate(object);
      } catch (err) {
        failures.push(`${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test('routes HTTPRoute backends and ServiceMonitor endpoints to existing Services and ports', () => {
    const services = servicePorts(objects);
    for (const route of byKind(objects, 'HTTPRoute')) {
      for (const rule of route.spec.rules as { backendRefs: { name: string; port: number }[] }[]) {
        for (const ref of rule.backendRefs) expect(services.get(ref.name)?.numbers).toContain(ref.port);
      }
    }
    for (const monitor of byKind(objects, 'ServiceMonitor')) {
      const app = monitor.spec.selector.matchLabels.app as string;
      for (const endpoint of monitor.spec.endpoints as { port: string; path: string }[]) {
        expect(services.get(app)?.names).toContain(endpoint.port);
        expect(endpoint.path).toBe('/metrics');
      }
    }
  });
});

describe('the Secret template', () => {
  const objects = parseObjects(readRepoFile('k8s/secret.example.yaml'));

  test('is a valid Secret named as the Deployments expect', () => {
    expect(objects).toHaveLength(1);
    validate(objects[0]!);
    expect(objects[0]!.metadata.name).toBe('eventrelay-credentials');
  });

  test('holds placeholders only, never real values', () => {
    for (const value of Object.values(objects[0]!.stringData as Record<string, string>)) expect(value).toContain('REPLACE_ME');
  });
});

describe('the schema check', () => {
  test('rejects an object with a field of the wrong type', () => {
    const broken: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        selector: { matchLabels: { app: 'broken' } },
        template: { spec: { containers: [{ name: 'broken', image: 'x', ports: [{ containerPort: 'http' }] }] } },
      },
    };
    expect(() => validate(broken)).toThrow(/containerPort/);
  });

  test('rejects a kind it has no schema for', () => {
    expect(() => validate({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' } })).toThrow(/no schema/);
  });
});
