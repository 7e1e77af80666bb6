import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { configEnvNames as schemaEnvNames } from '../../services/runtime/config/load.js';

/**
 * Reading what we ship, for the manifest checks: Kustomize renderings of
 * every overlay, the compose file, the Dockerfile and the environment names
 * that the config schema (services/runtime/config/schema.ts) reads.
 */

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const K8S_DIR = join(REPO_ROOT, 'k8s');

/** A Kubernetes object as rendered; fields are checked by the tests, not typed here. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

export interface Rendering {
  /** What was rendered, for test names: "overlays/dev", "production + all components". */
  name: string;
  objects: K8sObject[];
}

export function assertKubectlInstalled(): void {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'kubectl is not installed, and the manifest checks render k8s/ with `kubectl kustomize`. Install kubectl ' +
        '(https://kubernetes.io/docs/tasks/tools/, or `apt-get install -y kubectl` from the Kubernetes apt repository).',
    );
  }
}

export function kustomize(dir: string): K8sObject[] {
  assertKubectlInstalled();
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return parseObjects(result.stdout);
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function overlayNames(): string[] {
  return readdirSync(join(K8S_DIR, 'overlays')).sort();
}

export function componentNames(): string[] {
  return readdirSync(join(K8S_DIR, 'components')).sort();
}

/**
 * The production overlay with every optional component switched on, so that
 * the components are rendered and checked too (they are commented out in the
 * overlay itself).
 */
export function renderProductionWithAllComponents(): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'eventrelay-kustomize-'));
  // A component the overlay already includes would add its objects twice (kustomize refuses).
  const { components: included, namespace } = productionKustomization();
  try {
    const lines = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      // As if the components were listed in the overlay: their objects land in its namespace too.
      `namespace: ${namespace}`,
      // kustomize takes relative paths only
      'resources:',
      `  - ${relative(dir, join(K8S_DIR, 'overlays', 'production'))}`,
      'components:',
      ...componentNames()
        .filter((c) => !included.has(c))
        .map((c) => `  - ${relative(dir, join(K8S_DIR, 'components', c))}`),
    ];
    writeFileSync(join(dir, 'kustomization.yaml'), lines.join('\n') + '\n');
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The production overlay's namespace and the components it lists itself (by folder name). */
function productionKustomization(): { namespace: string; components: Set<string> } {
  const kustomization = parse(readFileSync(join(K8S_DIR, 'overlays', 'production', 'kustomization.yaml'), 'utf8')) as {
    namespace: string;
    components?: string[];
  };
  return { namespace: kustomization.namespace, components: new Set((kustomization.components ?? []).map((path) => path.split('/').at(-1)!)) };
}

/** Every rendering the checks cover: each overlay, plus production with all components. */
export function allRenderings(): Rendering[] {
  return [
    ...overlayNames().map((o) => ({ name: `overlays/${o}`, objects: kustomize(join(K8S_DIR, 'overlays', o)) })),
    { name: 'production + all components', objects: renderProductionWithAllComponents() },
  ];
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  init?: boolean;
  env_file?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  /** Services only `docker compose --profile <name>` starts (the Cluster and Sentinel stacks). */
  profiles?: string[];
}

export function loadCompose(): { services: Record<string, ComposeService> } {
  // merge: the file shares settings between services with YAML merge keys (<<).
  return parse(readRepoFile('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
}

/** KEY=value lines of an env file (comments and blanks skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) out[match[1]!] = match[2]!.trim();
  }
  return out;
}

/** The environment names loadConfig reads: the rows of the config schema, so a new variable needs no second list. */
export function configEnvNames(): Set<string> {
  return new Set(schemaEnvNames());
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}
