import { createPublicKey } from 'node:crypto';
import { importSPKI, type CryptoKey, type JWSHeaderParameters } from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../../runtime/config/schema.js';
import { RemoteJwks } from './remote-jwks.js';
import { TokenError } from './token-error.js';

/** The asymmetric algorithms of PROTOCOL.md Tokens v1.1, and the only ones accepted besides HS256. */
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
type PublicKeyAlgorithm = (typeof PUBLIC_KEY_ALGORITHMS)[number];

export type SubscriberKeysConfig = Pick<
  Config,
  'authDisabled' | 'subscriberJwtSecret' | 'subscriberJwksUrl' | 'subscriberJwtPublicKeyFile' | 'subscriberJwtIssuer' | 'subscriberJwtAudience'
>;

export interface LoadSubscriberKeysOptions {
  /** Reads SUBSCRIBER_JWT_PUBLIC_KEY_FILE; injected so that only main.ts touches the filesystem. */
  readFile?: (path: string) => string;
  logger: Logger;
  /** Wall clock of the JWKS refetch cooldown. */
  now: () => number;
  /** How often the JWKS is refetched whatever tokens arrive; default JWKS_REFRESH_INTERVAL_MS (tests shorten it). */
  jwksRefreshIntervalMs?: number;
}

interface PemKey {
  alg: PublicKeyAlgorithm;
  key: CryptoKey;
}

/**
 * What subscriber tokens are checked against: the HS256 secret, the PEM
 * public key, the JWKS, any of them or several (the keys are then the
 * union), and the `iss` / `aud` every token must carry when configured.
 */
export class SubscriberKeys {
  private constructor(
    private readonly secret: CryptoKey | undefined,
    private readonly pem: PemKey | undefined,
    private readonly jwks: RemoteJwks | undefined,
    /** When set, `iss` must equal it, for every algorithm. */
    readonly issuer: string | undefined,
    /** When set, `aud` must equal it or, as an array, contain it. */
    readonly audience: string | undefined,
  ) {}

  /**
   * Reads the PEM file and fetches the JWKS once: a key that cannot be read
   * or fetched stops the start with a message naming its variable. Nothing
   * is loaded with AUTH_DISABLED.
   */
  static async load(config: SubscriberKeysConfig, options: LoadSubscriberKeysOptions): Promise<SubscriberKeys> {
    if (config.authDisabled) return new SubscriberKeys(undefined, undefined, undefined, undefined, undefined);
    const secret = config.subscriberJwtSecret === undefined ? undefined : await hmacKey(config.subscriberJwtSecret);
    const pem = config.subscriberJwtPublicKeyFile === undefined ? undefined : await pemKey(config.subscriberJwtPublicKeyFile, options.readFile);
    let jwks: RemoteJwks | undefined;
    if (config.subscriberJwksUrl !== undefined) {
      jwks = new RemoteJwks({ url: config.subscriberJwksUrl, logger: options.logger, now: options.now, refreshIntervalMs: options.jwksRefreshIntervalMs });
      await jwks.start();
    }
    return new SubscriberKeys(secret, pem, jwks, config.subscriberJwtIssuer, config.subscriberJwtAudience);
  }

  /** Only an HS256 secret (tests, the CLI's checks); no iss / aud binding. */
  static async fromSecret(secret: string): Promise<SubscriberKeys> {
    return new SubscriberKeys(await hmacKey(secret), undefined, undefined, undefined, undefined);
  }

  /** Stops the JWKS refresh. */
  close(): void {
    this.jwks?.close();
  }

  /** The `alg` values a token may name: HS256 with a secret; the public-key ones with a JWKS (any of them) or a PEM key (its own). */
  get algorithms(): string[] {
    const algorithms: string[] = [];
    if (this.secret) algorithms.push('HS256');
    if (this.jwks) algorithms.push(...PUBLIC_KEY_ALGORITHMS);
    else if (this.pem) algorithms.push(this.pem.alg);
    return algorithms;
  }

  /**
   * The key for a token's protected header (jose calls this with it). HS256
   * takes only the secret, never a public key, so that a token "signed"
   * with the public key as HMAC secret cannot pass. A `kid` picks a key of
   * the JWKS; a `kid` the JWKS does not hold (or no JWKS) falls to the PEM
   * key, which has no `kid` of its own. A token without `kid` needs there to
   * be exactly one public key (PROTOCOL.md Tokens v1.1).
   */
  async keyFor(header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array> {
    const alg = header.alg;
    const allowed = this.algorithms;
    if (alg === undefined || !allowed.includes(alg)) {
      throw new TokenError(allowed.length ? `token algorithm must be ${allowed.join(' or ')}` : 'no subscriber token key is configured');
    }
    if (alg === 'HS256') return this.secret!;
    if (header.kid !== undefined) {
      const key = await this.jwks?.resolve(header);
      if (key) return key;
      if (this.pem) return this.pemKey(alg);
      throw new TokenError(`no key of the JWKS has kid "${header.kid}" and fits ${alg}`);
    }
    const publicKeys = (this.pem ? 1 : 0) + (this.jwks?.size ?? 0);
    if (publicKeys !== 1) throw new TokenError(`a token without kid needs exactly one configured public key; there are ${publicKeys}`);
    if (this.pem) return this.pemKey(alg);
    const key = await this.jwks!.resolve(header);
    if (!key) throw new TokenError(`token algorithm ${alg} does not fit the key of the JWKS`);
    return key;
  }

  private pemKey(alg: string): CryptoKey {
    if (this.pem!.alg !== alg) throw new TokenError(`token algorithm ${alg} does not fit the configured ${this.pem!.alg} key`);
    return this.pem!.key;
  }
}

/**
 * The secret imported once: jose would import raw bytes again on every
 * token, which made HS256 verification several times slower than a
 * CryptoKey made at start.
 */
function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

/** One SPKI public key, and the one algorithm its type allows. */
async function pemKey(path: string, readFile: LoadSubscriberKeysOptions['readFile']): Promise<PemKey> {
  if (!readFile) throw new Error('SUBSCRIBER_JWT_PUBLIC_KEY_FILE is set but files cannot be read here');
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new Error(`SUBSCRIBER_JWT_PUBLIC_KEY_FILE: cannot read ${path} (${(err as Error).message})`);
  }
  const blocks = text.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? [];
  if (blocks.length !== 1 || blocks[0] !== '-----BEGIN PUBLIC KEY-----') {
    throw new Error(`SUBSCRIBER_JWT_PUBLIC_KEY_FILE: ${path} must hold exactly one PEM "PUBLIC KEY" (SPKI) block`);
  }
  let alg: PublicKeyAlgorithm | undefined;
  try {
    alg = algorithmOf(createPublicKey(text));
  } catch (err) {
    throw new Error(`SUBSCRIBER_JWT_PUBLIC_KEY_FILE: ${path} is not a readable public key (${(err as Error).message})`);
  }
  if (!alg) throw new Error(`SUBSCRIBER_JWT_PUBLIC_KEY_FILE: ${path} must be an RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA) key`);
  return { alg, key: await importSPKI(text, alg) };
}

function algorithmOf(key: ReturnType<typeof createPublicKey>): PublicKeyAlgorithm | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  return undefined;
}
