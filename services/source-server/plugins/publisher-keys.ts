import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Accepted keys remembered, at most: a deployment has a handful of keys,
 * and a bound keeps a flood of made-up keys from growing the memory (only
 * accepted keys are ever remembered, so the flood cannot fill it anyway).
 */
const MAX_REMEMBERED_KEYS = 1024;

/** Characters of base64url SHA-256 kept in a scope: 132 bits, collision-free among any set of configured keys. */
const SCOPE_DIGEST_CHARS = 22;

/**
 * Publisher keys are compared in constant time: every candidate and every
 * configured key is hashed to 32 bytes first, so neither the content nor the
 * length of a key leaks through timing, and every configured key is checked.
 *
 * A key that passed is remembered by its exact text together with its scope,
 * so a producer's following requests skip the hashing (a SHA-256 and a
 * compare per configured key, and the scope's SHA-256, on every publish).
 * Only a correct key takes the fast path, so its speed tells a caller nothing
 * the 200 does not; a wrong key always takes the constant-time path.
 */
export class PublisherKeys {
  private readonly digests: Buffer[];
  /** Accepted key → its idempotency scope. */
  private readonly accepted = new Map<string, string>();

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** The idempotency scope of `candidate` when it is a configured key, else undefined. */
  scopeOf(candidate: string): string | undefined {
    const remembered = this.accepted.get(candidate);
    if (remembered !== undefined) return remembered;
    const d = digest(candidate);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    if (!ok) return undefined;
    const scope = publisherScope(candidate);
    if (this.accepted.size < MAX_REMEMBERED_KEYS) this.accepted.set(candidate, scope);
    return scope;
  }

  verify(candidate: string): boolean {
    return this.scopeOf(candidate) !== undefined;
  }
}

/**
 * The idempotency scope of a publisher key (PROTOCOL.md v1.1: idempotency
 * keys are scoped per publisher key and channel): a digest, so that neither
 * Redis nor its dumps, nor the logs, ever hold the key.
 */
export function publisherScope(key: string): string {
  return `pk:${createHash('sha256').update(key).digest('base64url').slice(0, SCOPE_DIGEST_CHARS)}`;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
