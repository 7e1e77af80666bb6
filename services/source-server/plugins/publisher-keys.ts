import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Publisher keys are compared in constant time: every candidate and every
 * configured key is hashed to 32 bytes first, so neither the content nor the
 * length of a key leaks through timing, and every configured key is checked.
 */
export class PublisherKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  verify(candidate: string): boolean {
    const d = digest(candidate);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
