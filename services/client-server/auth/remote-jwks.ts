import { createLocalJWKSet, errors, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { Logger } from 'pino';

/**
 * PROTOCOL.md Tokens v1.1: a token naming a `kid` the server does not hold
 * refetches the JWKS at most once per 30 s, so that forged tokens with
 * random key ids cannot turn the server into a load generator against the
 * identity provider. Every fetch counts, failed ones included.
 */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;
/**
 * The document is also refetched on this period whatever tokens arrive, so
 * that a key the issuer removed (rotated out, or compromised) stops being
 * accepted within five minutes.
 */
export const JWKS_REFRESH_INTERVAL_MS = 5 * 60_000;
/** An identity provider that has not answered in 5 s is down for this fetch (jose's own default). */
export const JWKS_FETCH_TIMEOUT_MS = 5000;
/** A JWKS holds a handful of keys (a few KiB); a bigger answer is not one. */
export const MAX_JWKS_BYTES = 256 * 1024;

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface RemoteJwksOptions {
  url: string;
  logger: Logger;
  /** Wall clock of the refetch cooldown; injected for tests. */
  now: () => number;
  /** Default JWKS_REFRESH_INTERVAL_MS; shorter in tests. */
  refreshIntervalMs?: number;
}

/**
 * The keys of `SUBSCRIBER_JWKS_URL`. Key selection and import are jose's
 * (createLocalJWKSet: `kid`, `kty`/`crv` for the `alg`, the key's own `alg`
 * and `use`); the fetching is ours rather than jose's createRemoteJWKSet,
 * because that one starts its cooldown only after a successful fetch (during
 * an outage every unknown `kid` would fetch again) and, once its cache is
 * older than its max age, fails every token while the endpoint is down.
 * Here the last good document stays in use until a fetch replaces it.
 */
export class RemoteJwks {
  private keys: KeyResolver | undefined;
  private kids = new Set<string>();
  private count = 0;
  private lastAttemptMs = -Infinity;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: RemoteJwksOptions) {
    this.logger = options.logger.child({ component: 'jwks', url: options.url });
  }

  /** The first fetch: throws (naming SUBSCRIBER_JWKS_URL) when it fails, so that a bad URL stops the start. Then refreshes on a timer. */
  async start(): Promise<void> {
    await this.fetch();
    this.timer = setInterval(() => void this.refresh('periodic'), this.options.refreshIntervalMs ?? JWKS_REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** How many keys the document holds: a token without `kid` needs there to be exactly one key. */
  get size(): number {
    return this.count;
  }

  /**
   * The key for a token's header. An unknown `kid` refetches the document
   * unless a fetch started less than the cooldown ago; a fetch already under
   * way is awaited instead of starting another.
   */
  async resolve(header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array | undefined> {
    const kid = header.kid;
    if (kid !== undefined && !this.kids.has(kid)) {
      if (this.inFlight) await this.inFlight.catch(() => {});
      else if (this.options.now() - this.lastAttemptMs >= JWKS_REFETCH_COOLDOWN_MS) await this.refresh('unknown kid');
      if (!this.kids.has(kid)) return undefined;
    }
    if (!this.keys) return undefined;
    try {
      return await this.keys(header);
    } catch (err) {
      // The kid is held (or there is no kid) but no key of the document fits this `alg`.
      if (err instanceof errors.JWKSNoMatchingKey) return undefined;
      throw err;
    }
  }

  private async refresh(why: string): Promise<void> {
    try {
      await this.fetch();
      this.logger.debug({ why, keys: this.count }, 'JWKS refreshed');
    } catch (err) {
      this.logger.warn({ err, why }, 'JWKS refresh failed; the keys fetched before stay in use');
    }
  }

  private fetch(): Promise<void> {
    this.inFlight ??= this.download().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async download(): Promise<void> {
    this.lastAttemptMs = this.options.now();
    const { url } = this.options;
    let text: string;
    try {
      const response = await fetch(url, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
      text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    } catch (err) {
      throw new Error(`SUBSCRIBER_JWKS_URL: cannot fetch ${url} (${reason(err)})`);
    }
    if (text.length > MAX_JWKS_BYTES) throw new Error(`SUBSCRIBER_JWKS_URL: ${url} answered more than ${MAX_JWKS_BYTES} bytes; not a JWKS`);
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(text) as JSONWebKeySet;
      this.keys = createLocalJWKSet(jwks);
    } catch (err) {
      throw new Error(`SUBSCRIBER_JWKS_URL: ${url} did not answer a JWKS document ({"keys":[...]}) (${reason(err)})`);
    }
    this.count = jwks.keys.length;
    this.kids = new Set(jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
    if (this.count === 0) this.logger.warn('the JWKS holds no key: no RS256 / ES256 / EdDSA token verifies until it does');
  }
}

function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${JWKS_FETCH_TIMEOUT_MS} ms`;
  // undici's "fetch failed" says nothing; its cause names the refused or unknown host.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
