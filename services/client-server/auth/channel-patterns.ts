/**
 * A subscriber token's `channels` claim: patterns where `*` matches any run
 * of characters (`orders:*` matches `orders:eu` and `orders:eu:1`).
 * Compiled once per token, not once per subscribe.
 */
export class ChannelPatterns {
  private readonly exact = new Set<string>();
  private readonly wildcards: RegExp[] = [];

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      if (!pattern.includes('*')) this.exact.add(pattern);
      else {
        const source = pattern.split('*').map(escapeRegExp).join('.*');
        this.wildcards.push(new RegExp(`^${source}$`, 's'));
      }
    }
  }

  allows(channel: string): boolean {
    return this.exact.has(channel) || this.wildcards.some((re) => re.test(channel));
  }

  static readonly ALL = new ChannelPatterns(['*']);
  static readonly NONE = new ChannelPatterns([]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
