import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotFunction {
  name: string;
  /** Share of all samples spent in the function itself. */
  selfPercent: number;
}

/** The functions with the most self time in a `node --cpu-prof` profile. */
export function summarizeProfile(profile: { nodes: ProfileNode[] }, top = 12): HotFunction[] {
  const byName = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/)?/, (m, nm: string | undefined) => (nm ? 'node_modules/' : '')).split('/').slice(-2).join('/');
    const name = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    byName.set(name, (byName.get(name) ?? 0) + hits);
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, hits]) => ({ name, selfPercent: total ? (hits / total) * 100 : 0 }));
}

/** Reads the newest `.cpuprofile` in `dir` written by the process `pid`. */
export function readProfile(dir: string, pid: number): { nodes: ProfileNode[] } | undefined {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.`));
  return file ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] }) : undefined;
}
