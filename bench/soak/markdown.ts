// Blocks of BENCHMARKS.md that other commands own, between two markers, so
// that `npm run bench`, `npm run soak` and `npm run bench:shards` can each
// rewrite their part and keep the others'.
export const SOAK_START = '<!-- soak:start (written by npm run soak) -->';
export const SOAK_END = '<!-- soak:end -->';
export const SHARDS_START = '<!-- shards:start (written by npm run bench:shards) -->';
export const SHARDS_END = '<!-- shards:end -->';
/** Hand-written: what the figures mean, what was tried and did not help. Edited in BENCHMARKS.md itself. */
export const FINDINGS_START = '<!-- findings:start (hand-written; npm run bench keeps it) -->';
export const FINDINGS_END = '<!-- findings:end -->';

const BLOCKS = [
  [FINDINGS_START, FINDINGS_END],
  [SOAK_START, SOAK_END],
  [SHARDS_START, SHARDS_END],
] as const;

function extractBlock(markdown: string, startMarker: string, endMarker: string): string | undefined {
  const start = markdown.indexOf(startMarker);
  const end = markdown.indexOf(endMarker);
  return start >= 0 && end > start ? markdown.slice(start, end + endMarker.length) : undefined;
}

/** Every block a bench run must keep (findings, soak, shards). */
export function extractOwnedBlocks(markdown: string): string[] {
  return BLOCKS.map(([start, end]) => extractBlock(markdown, start, end)).filter((b): b is string => b !== undefined);
}

/** `markdown` with the block that `block` starts with replaced by it (or `block` appended). */
export function replaceBlock(markdown: string, block: string): string {
  const markers = BLOCKS.find(([start]) => block.startsWith(start));
  if (!markers) throw new Error('replaceBlock: the block does not start with a known marker');
  const old = extractBlock(markdown, markers[0], markers[1]);
  return old ? markdown.replace(old, () => block) : `${markdown.trimEnd()}\n\n${block}\n`;
}
