import type { Env } from './fields.js';

/*
 * A misspelt variable (HISTROY_SIZE=5) is not an error to the environment:
 * the service would start with the default and the operator would never
 * know. So a name close to one of ours stops the start with "did you mean".
 * The environment also holds many names that are not ours and must never
 * stop a service (PATH, HOSTNAME, KUBERNETES_SERVICE_HOST, npm_config_*), so
 * a name counts as a typo only when all of these hold:
 * - it has our shape: words of letters and digits joined by underscores,
 *   at least two of them (any case: history_size is caught too);
 * - it is not a Kubernetes service-link variable (SOURCE_SERVER_PORT=tcp://...,
 *   CLIENT_SERVER_SERVICE_HOST, REDIS_PORT_6379_TCP_ADDR), which a cluster
 *   injects for every Service of the namespace unless enableServiceLinks is off;
 * - its Damerau distance to one of our names is at most MAX_EDITS, and at
 *   most one edit per EDIT_PER_LETTERS letters of that name, so that short
 *   names (NODE_ENV, LOG_LEVEL) match only one edit away and HOST (four
 *   letters) is never a target (HOSTNAME, HOME, HOSTS stay untouched).
 * No match among 6,861 upper-snake names found in node_modules and
 * /usr/share/doc, nor in this machine's environment.
 */

/** Two edits (a transposition counts as one) cover nearly all typing slips; three would start matching other programs' names. */
export const MAX_EDITS = 2;
/** One edit allowed per this many letters of our name: NODE_ENV (8) gets 1, HISTORY_SIZE (12) gets 2. */
export const EDIT_PER_LETTERS = 5;

const OUR_SHAPE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;
/** `<SERVICE>_SERVICE_HOST`, `_SERVICE_PORT[_<name>]`, `_PORT_<n>_<proto>[_PROTO|_PORT|_ADDR]`. */
const SERVICE_LINK_NAME = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)$/;
/** `<SERVICE>_PORT=tcp://10.0.0.11:6379`: the same family, told apart from a port number by its value. */
const SERVICE_LINK_PORT = { name: /_PORT$/, value: /^(tcp|udp|sctp):\/\// };

/** Optimal string alignment distance (Damerau-Levenshtein without re-editing a transposed pair). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

function isServiceLink(name: string, value: string | undefined): boolean {
  return SERVICE_LINK_NAME.test(name) || (SERVICE_LINK_PORT.name.test(name) && SERVICE_LINK_PORT.value.test(value ?? ''));
}

/** The name of ours that `name` looks like a slip of, if any. */
export function likelyMeant(name: string, value: string | undefined, known: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  if (known.includes(name) || !OUR_SHAPE.test(upper) || isServiceLink(upper, value)) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const allowed = Math.min(MAX_EDITS, Math.floor(candidate.length / EDIT_PER_LETTERS));
    if (Math.abs(candidate.length - upper.length) > allowed) continue;
    const distance = editDistance(upper, candidate);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** One problem per variable that looks like a misspelt name of ours, for loadConfig to report with the others. */
export function misspeltNames(env: Env, known: readonly string[]): string[] {
  return Object.keys(env)
    .sort()
    .flatMap((name) => {
      const meant = likelyMeant(name, env[name], known);
      return meant === undefined ? [] : [`${name} is not a variable eventrelay reads: did you mean ${meant}? (a misspelt name would be ignored silently)`];
    });
}
