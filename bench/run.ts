// `npm run bench`: eventrelay against a bare ws + Redis floor and Socket.IO +
// Redis adapter, section by section (broadcast path, publish path, write
// coalescing, compression, connections at scale), each run on a fresh
// private Redis and fresh processes. Writes BENCHMARKS.md (keeping the soak
// section `npm run soak` wrote) and the SVG charts. `--only a,b` runs a
// subset; `--full` the issue's complete parameters.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadAverage, machineDescription } from './lib/proc.js';
import { parseOptions, type SectionName } from './lib/options.js';
import { renderHeader } from './lib/report.js';
import { ROOT } from './lib/targets.js';
import { broadcastSection } from './sections/broadcast.js';
import { compressionSection } from './sections/compression.js';
import { coalescingSection } from './sections/coalescing.js';
import { connectionsSection } from './sections/connections.js';
import { createContext, type BenchContext, type SectionOutput } from './sections/context.js';
import { publishSection } from './sections/publish.js';
import { extractOwnedBlocks } from './soak/markdown.js';

const SECTION_RUNNERS: Record<SectionName, (ctx: BenchContext) => Promise<SectionOutput>> = {
  broadcast: broadcastSection,
  publish: publishSection,
  coalescing: coalescingSection,
  compression: compressionSection,
  connections: connectionsSection,
};

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const machine = machineDescription();
  const ctx = createContext(o, machine);
  const conditions = `load average ${loadAverage()} (1/5/15 min) when the run started; other engineers' test suites may have been running on the same 2 cores, and the load generators always share them with the servers`;
  const started = Date.now();
  const outFile = resolve(ROOT, o.out);
  const body: string[] = [];
  for (const name of o.only) {
    const t0 = Date.now();
    ctx.log(`— section ${name}`);
    const out = await SECTION_RUNNERS[name](ctx);
    body.push(...out.lines);
    // Beside the report (the repository for the default BENCHMARKS.md), so that a trial run elsewhere leaves the charts alone.
    for (const f of out.files ?? []) {
      const path = join(dirname(outFile), f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
    ctx.log(`— section ${name} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  // `npm run soak` and `npm run bench:shards` own their blocks; a bench run keeps them.
  const owned = existsSync(outFile) ? extractOwnedBlocks(readFileSync(outFile, 'utf8')) : [];
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const header = renderHeader({ command, date: new Date().toISOString(), machine, conditions });
  header.push(`- Sections: ${o.only.join(', ')}; Redis: ${o.redis}; took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  writeFileSync(outFile, [...header, ...body, ...owned.flatMap((block) => ['', block])].join('\n') + '\n');
  ctx.log(`wrote ${o.out}`);
}

// An interrupted run still tears down what it started (the 'exit' handlers in lib/targets.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
