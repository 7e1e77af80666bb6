import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  byKind, configEnvNames, K8S_DIR, kustomize, loadCompose, parseEnvFile, parseObjects, readRepoFile, type K8sObject,
} from '../../support/manifests.js';

/**
 * docker compose and Kubernetes run the same images the same way: same image
 * names, same ports, the same user, and only environment names that
 * the config schema (services/runtime/config/schema.ts) actually reads (a misspelt variable is silently
 * ignored by a container, so it is caught here).
 */

const SERVICES = { 'source-server': 8080, 'client-server': 8081 } as const;
const compose = loadCompose();
const dockerfile = readRepoFile('Dockerfile');
const known = configEnvNames();
const renderings = ['dev', 'production'].map((o) => kustomize(join(K8S_DIR, 'overlays', o)));

/** The image name without tag or digest (compose's tag is ${EVENTRELAY_TAG:-dev}). */
function imageRepository(image: string): string {
  return image.replace(/@sha256:.*$/, '').replace(/:(\$\{[^}]*\}|[^/:]*)$/, '');
}

/** The lines of one Dockerfile stage, from its FROM to the next. */
function stage(name: string): string {
  const match = new RegExp(`^FROM \\S+ AS ${name}$([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, 'm').exec(dockerfile);
  if (!match) throw new Error(`Dockerfile has no stage ${name}`);
  return match[1]!;
}

function k8sEnvNames(objects: K8sObject[]): string[] {
  const names: string[] = [];
  // Only the ConfigMaps the services read as environment (not, e.g., the Grafana dashboard's).
  const envMaps = new Set<string>();
  for (const d of byKind(objects, 'Deployment')) {
    if (!(d.metadata.name in SERVICES)) continue;
    for (const c of d.spec.template.spec.containers) {
      names.push(...(c.env ?? []).map((e: { name: string }) => e.name));
      for (const from of c.envFrom ?? []) if (from.configMapRef) envMaps.add(from.configMapRef.name);
    }
  }
  for (const cm of byKind(objects, 'ConfigMap').filter((c) => envMaps.has(c.metadata.name))) names.push(...Object.keys(cm.data ?? {}));
  for (const s of byKind(objects, 'Secret')) names.push(...Object.keys(s.data ?? s.stringData ?? {}));
  return names;
}

describe('the environment names', () => {
  test('are the config schema\'s rows (it holds the names it must)', () => {
    for (const name of ['REDIS_URL', 'PUBLISHER_KEYS', 'SUBSCRIBER_JWT_SECRET', 'DRAIN_WINDOW_SECONDS', 'NODE_ENV']) expect(known).toContain(name);
  });

  test('in docker-compose.yml and compose.env are all known to the config schema', () => {
    const names = Object.values(compose.services).flatMap((s) => Object.keys(s.environment ?? {}));
    names.push(...Object.keys(parseEnvFile(readRepoFile('compose.env'))));
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });

  test('in the Kubernetes manifests and the Secret template are all known to the config schema', () => {
    const names = renderings.flatMap(k8sEnvNames);
    names.push(...k8sEnvNames(parseObjects(readRepoFile('k8s/secret.example.yaml'))));
    expect(names, 'the ConfigMap the pods read was found').toContain('DRAIN_WINDOW_SECONDS');
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });
});

describe.each(Object.entries(SERVICES))('%s', (name, port) => {
  const service = compose.services[name]!;

  test('is built from its own Dockerfile stage, which exposes its port, checks /healthz and runs its main', () => {
    expect(service.build?.target).toBe(name);
    const lines = stage(name);
    expect(lines).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(lines).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(lines).toContain(`dist/services/${name}/main.js`);
  });

  test('runs the same image in compose and in every overlay', () => {
    const repository = imageRepository(service.image!);
    expect(repository).toBe(`eventrelay/${name}`);
    for (const objects of renderings) {
      const deployment = byKind(objects, 'Deployment').find((d) => d.metadata.name === name)!;
      expect(imageRepository(deployment.spec.template.spec.containers[0].image)).toBe(repository);
    }
  });

  test('listens on the same port in compose and Kubernetes', () => {
    for (const mapping of service.ports!) expect(mapping).toMatch(new RegExp(`:${port}$`));
    for (const objects of renderings) {
      const deployment = byKind(objects, 'Deployment').find((d) => d.metadata.name === name)!;
      expect(deployment.spec.template.spec.containers[0].ports[0].containerPort).toBe(port);
      expect(byKind(objects, 'Service').find((s) => s.metadata.name === name)!.spec.ports[0].port).toBe(port);
    }
  });
});

describe('docker-compose.yml', () => {
  const everyRelay = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('eventrelay/'));
  /** The default stack; the `cluster` and `sentinel` profiles add their own services beside it. */
  const relay = everyRelay.filter(([, s]) => !s.profiles);

  test('runs redis:7-alpine with a healthcheck and no persistence unless REDIS_APPENDONLY=yes', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toBe('redis:7-alpine');
    expect(redis.healthcheck?.test).toContain('ping');
    const command = redis.command!.join(' ');
    expect(command).toContain('--appendonly ${REDIS_APPENDONLY:-no}');
    expect(command).toContain('--appendfsync always');
  });

  test('has two client-server replicas on distinct host ports', () => {
    const clients = relay.filter(([, s]) => s.image!.startsWith('eventrelay/client-server'));
    expect(clients).toHaveLength(2);
    const hostPorts = clients.map(([, s]) => s.ports![0]!.split(':').slice(0, -1).join(':'));
    expect(new Set(hostPorts).size).toBe(2);
  });

  test.each(relay.map(([n, s]) => [n, s] as const))('%s binds 127.0.0.1, runs under init, waits for a healthy Redis and has a healthcheck', (_n, s) => {
    for (const mapping of s.ports!) expect(mapping.startsWith('127.0.0.1:')).toBe(true);
    expect(s.init).toBe(true);
    expect(s.depends_on?.redis).toEqual({ condition: 'service_healthy' });
    expect(s.healthcheck?.test.join(' ')).toContain('/readyz');
    expect(s.env_file).toBe('compose.env');
  });
});

describe('the cluster and sentinel profiles of docker-compose.yml', () => {
  const profiled = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('eventrelay/') && s.profiles);

  test.each([
    ['cluster', 'REDIS_CLUSTER_NODES'],
    ['sentinel', 'REDIS_SENTINELS'],
  ])('%s runs a source-server and two client-servers on distinct host ports, pointed at its Redis by %s', (profile, variable) => {
    const stack = profiled.filter(([, s]) => s.profiles!.includes(profile));
    expect(stack.filter(([, s]) => s.image!.startsWith('eventrelay/source-server'))).toHaveLength(1);
    expect(stack.filter(([, s]) => s.image!.startsWith('eventrelay/client-server'))).toHaveLength(2);
    expect(new Set(stack.map(([, s]) => s.ports![0]!)).size).toBe(3);
    for (const [, s] of stack) {
      expect(s.environment?.[variable]).toBeTruthy();
      expect(s.environment?.REDIS_URL).toBeUndefined();
    }
  });

  test.each(profiled.map(([n, s]) => [n, s] as const))('%s binds 127.0.0.1, runs under init, waits for its Redis and has a healthcheck', (_n, s) => {
    for (const mapping of s.ports!) expect(mapping.startsWith('127.0.0.1:')).toBe(true);
    expect(s.init).toBe(true);
    const waits = Object.entries(s.depends_on ?? {}).filter(([name]) => name.startsWith('redis-'));
    expect(waits.length).toBeGreaterThan(0);
    for (const [, wait] of waits) expect(['service_healthy', 'service_completed_successfully']).toContain(wait.condition);
    expect(s.depends_on?.redis).toBeUndefined();
    expect(s.healthcheck?.test.join(' ')).toContain('/readyz');
    expect(s.env_file).toBe('compose.env');
  });
});

describe('the Dockerfile', () => {
  test('uses a pinned Node 24 LTS slim base, no package manager, and runs as user 1000 like the pods', () => {
    for (const from of dockerfile.match(/^FROM \S+/gm)!) expect(from).toMatch(/^FROM (node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]+)?|runtime)$/);
    expect(dockerfile).not.toMatch(/^RUN .*\b(apk|apt-get|apt)\b/m);
    expect(dockerfile).toMatch(/^USER 1000$/m);
    for (const objects of renderings) {
      for (const d of byKind(objects, 'Deployment').filter((x) => x.metadata.name in SERVICES)) {
        expect(d.spec.template.spec.securityContext.runAsUser).toBe(1000);
      }
    }
  });

  test('installs production dependencies only into the runtime image', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(stage('runtime')).toMatch(/COPY --from=deps \/app\/node_modules/);
  });
});
