// The soak's block of BENCHMARKS.md, between two markers, so that
// `npm run bench` and `npm run soak` can each rewrite their part.
export const SOAK_START = '<!-- soak:start (written by npm run soak) -->';
export const SOAK_END = '<!-- soak:end -->';

export function extractSoakBlock(markdown: string): string | undefined {
  const start = markdown.indexOf(SOAK_START);
  const end = markdown.indexOf(SOAK_END);
  return start >= 0 && end > start ? markdown.slice(start, end + SOAK_END.length) : undefined;
}

/** `markdown` with its soak block replaced by `block` (or `block` appended). */
export function replaceSoakBlock(markdown: string, block: string): string {
  const old = extractSoakBlock(markdown);
  return old ? markdown.replace(old, () => block) : `${markdown.trimEnd()}\n\n${block}\n`;
}
