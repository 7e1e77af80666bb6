import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { allRenderings, byKind } from '../../support/manifests.js';

/**
 * Containers run as a non-root user with a read-only root filesystem. The
 * full pod hardening is test/system/manifests/k8s-policy.test.ts; this file checks
 * that it covers these two points for every container of every rendering,
 * and that the image and compose run as uid 1000.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVICES = ['source-server', 'client-server'];

describe('containers', () => {
  test('the image runs as uid 1000, set by number after the last package step', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('1000');
    // Every stage a service image is built from inherits it: none switches back.
    expect(users).not.toContain('root');
    expect(users).not.toContain('0');
  });

  test('compose runs the services as the image user (1000), never as root', () => {
    const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')) as { services: Record<string, { user?: string; build?: unknown; image?: string }> };
    const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined || /eventrelay\//.test(s.image ?? ''));
    expect(ours.map(([name]) => name)).toEqual(expect.arrayContaining(SERVICES));
    for (const [, service] of ours) {
      if (service.user !== undefined) expect(String(service.user)).toMatch(/^1000(:1000)?$/);
    }
  });

  test.each(allRenderings().map((r) => [r.name, r.objects] as const))('in the %s rendering every container is non-root with a read-only root filesystem', (_name, objects) => {
    const deployments = byKind(objects, 'Deployment').filter((d) => SERVICES.includes(d.metadata.name));
    expect(deployments).toHaveLength(SERVICES.length);
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const runAsNonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
        const runAsUser = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        expect(runAsNonRoot, `${deployment.metadata.name}/${container.name} runAsNonRoot`).toBe(true);
        expect(runAsUser, `${deployment.metadata.name}/${container.name} runAsUser`).toBeGreaterThan(0);
        expect(container.securityContext?.readOnlyRootFilesystem, `${deployment.metadata.name}/${container.name} readOnlyRootFilesystem`).toBe(true);
      }
    }
  });
});
