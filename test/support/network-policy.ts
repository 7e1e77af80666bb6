import { byKind, type K8sObject } from './manifests.js';

/**
 * Whether rendered NetworkPolicies let one connection through, by the rules
 * of the Kubernetes API (networking.k8s.io/v1): a pod selected by some policy
 * for a direction is isolated in it and admits only what one of those
 * policies' rules allows; a connection needs the source's egress and the
 * destination's ingress. IPv4 ipBlocks only; ipBlocks never match pods
 * (implementation-defined in the API, and our policies do not rely on it).
 */

export type Labels = Record<string, string>;
export type Endpoint = { namespace: string; labels: Labels; ports?: Record<string, number> } | { ip: string };
export interface Port {
  number: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}
interface Rule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

function selects(selector: Selector, labels: Labels): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return key in labels && values.includes(labels[key]!);
    if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key]!);
    if (operator === 'Exists') return key in labels;
    return !(key in labels);
  });
}

function ipv4(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base!) / size);
}

/** A namespace carries its own name as kubernetes.io/metadata.name (Kubernetes ≥ 1.22 sets it). */
function namespaceLabels(namespace: string): Labels {
  return { 'kubernetes.io/metadata.name': namespace };
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if ('ip' in other) return peer.ipBlock !== undefined && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels(other.namespace)) : other.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector ?? {}, other.labels);
}

/** Named ports resolve against the destination pod's container ports. */
function portMatches(rule: PolicyPort, port: Port, destination: Endpoint): boolean {
  if ((rule.protocol ?? 'TCP') !== (port.protocol ?? 'TCP')) return false;
  if (rule.port === undefined) return true;
  const number = typeof rule.port === 'number' ? rule.port : 'ports' in destination ? destination.ports?.[rule.port] : undefined;
  if (number === undefined) return false;
  return rule.endPort === undefined ? number === port.number : port.number >= number && port.number <= rule.endPort;
}

function ruleAllows(rule: Rule, peers: PolicyPeer[] | undefined, namespace: string, other: Endpoint, port: Port, destination: Endpoint): boolean {
  const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(p, namespace, other));
  const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, port, destination));
  return peerOk && portOk;
}

function directionAllows(policies: K8sObject[], pod: Endpoint, direction: 'Ingress' | 'Egress', other: Endpoint, port: Port, destination: Endpoint): boolean {
  if ('ip' in pod) return true; // outside the cluster: no policy applies
  const isolating = policies.filter(
    (p) => (p.metadata.namespace ?? '') === pod.namespace && selects(p.spec.podSelector, pod.labels) && policyTypes(p).includes(direction),
  );
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    ((direction === 'Ingress' ? p.spec.ingress : p.spec.egress) as Rule[] | undefined ?? []).some((rule) =>
      ruleAllows(rule, direction === 'Ingress' ? rule.from : rule.to, p.metadata.namespace ?? '', other, port, destination),
    ),
  );
}

/** policyTypes defaults to Ingress, plus Egress when the policy has egress rules. */
function policyTypes(policy: K8sObject): string[] {
  return policy.spec.policyTypes ?? ['Ingress', ...(policy.spec.egress ? ['Egress'] : [])];
}

/** Whether `from` may open a connection to `to` on `port` under the rendered policies. */
export function connectionAllowed(objects: K8sObject[], from: Endpoint, to: Endpoint, port: Port): boolean {
  const policies = byKind(objects, 'NetworkPolicy');
  return directionAllows(policies, from, 'Egress', to, port, to) && directionAllows(policies, to, 'Ingress', from, port, to);
}
