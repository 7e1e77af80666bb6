import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Accepted keys remembered, at most: a deployment has a handful of keys,
 * and a bound keeps a flood of made-up keys from growing the memory (only
 * accepted keys are ever remembered, so the flood cannot fill it anyway).
 */
const MAX_REMEMBERED_KEYS = 1024;

/**
 * Publisher keys are compared in constant time: every candidate and every
 * configured key is hashed to 32 bytes first, so neither the content nor the
 * length of a key leaks through timing, and every configured key is checked.
 *
 * A key that passed is remembered by its exact text, so a producer's
 * following requests skip the hashing (a SHA-256 and a compare per
 * configured key, on every publish). Only a correct key takes the fast path,
 * so its speed tells a caller nothing the 200 does not; a wrong key always
 * takes the constant-time path.
 */
export class PublisherKeys {
  private readonly digests: Buffer[];
  private readonly accepted = new Set<string>();

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  verify(candidate: string): boolean {
    if (this.accepted.has(candidate)) return true;
    const d = digest(candidate);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    if (ok && this.accepted.size < MAX_REMEMBERED_KEYS) this.accepted.add(candidate);
    return ok;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
