import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { signJwt, signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { signingKey, signWith, startJwksServer, type JwksServer, type PublicKeyAlg, type SigningKey } from '../support/jwks-server.js';
import { loadKeys, startTokenRelay, TOKEN_NOW_MS, type TokenRelay } from '../support/token-relay.js';

/**
 * PROTOCOL.md Tokens v1.1: SUBSCRIBER_JWT_PUBLIC_KEY_FILE (one SPKI PEM key),
 * the rule for tokens without `kid`, algorithm confusion, and
 * SUBSCRIBER_JWT_ISSUER / SUBSCRIBER_JWT_AUDIENCE binding every algorithm.
 * Each refusal sits next to an acceptance that differs in the one thing
 * refused, so that a refusal for another reason cannot pass for it.
 */

const SECRET = 'token-keys-secret-token-keys-secret-0123';
const now = TOKEN_NOW_MS / 1000;
const claims = { channels: ['elsewhere'], exp: now + 600 };
const ALGS: PublicKeyAlg[] = ['RS256', 'ES256', 'EdDSA'];

const dir = mkdtempSync(join(tmpdir(), 'eventrelay-token-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function pemFile(text: string): string {
  const path = join(dir, `key-${files++}.pem`);
  writeFileSync(path, text);
  return path;
}
const readFile = (path: string) => readFileSync(path, 'utf8');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app whose keys are loaded as main.ts loads them (it reads the PEM file). */
async function relay(env: Record<string, string>): Promise<TokenRelay> {
  const started = await startTokenRelay(env, { keys: (clock) => loadKeys(env, clock, { readFile }) });
  cleanups.push(() => started.close());
  return started;
}

async function jwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const server = await startJwksServer(keys.map((k) => k.jwk));
  cleanups.push(() => server.close());
  return server;
}

function hmacToken(header: Record<string, unknown>, payload: Record<string, unknown>, key: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

let keys: Record<PublicKeyAlg, SigningKey>;
let others: Record<PublicKeyAlg, SigningKey>;
beforeAll(async () => {
  keys = { RS256: await signingKey('RS256', 'k-rsa'), ES256: await signingKey('ES256', 'k-ec'), EdDSA: await signingKey('EdDSA', 'k-ed') };
  others = { RS256: await signingKey('RS256', 'o-rsa'), ES256: await signingKey('ES256', 'o-ec'), EdDSA: await signingKey('EdDSA', 'o-ed') };
});

describe('a PEM public key file', () => {
  test.each(ALGS)('an %s key verifies its own tokens, with or without kid, and refuses another key\'s and another algorithm\'s', async (alg) => {
    const { verdict } = await relay({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(keys[alg].pem) });
    expect(await verdict(await signWith(keys[alg], claims, { kid: null }))).toBe('accepted');
    // Without a JWKS the kid names nothing; the PEM key is the only candidate.
    expect(await verdict(await signWith(keys[alg], claims))).toBe('accepted');
    expect(await verdict(await signWith(others[alg], claims, { kid: null }))).toBe('The subscriber token was rejected: bad token signature.');
    for (const other of ALGS.filter((a) => a !== alg)) {
      expect(await verdict(await signWith(keys[other], claims, { kid: null }))).toBe(`The subscriber token was rejected: token algorithm must be ${alg}.`);
    }
  });

  test('HS256 "signed" with the public key PEM as HMAC secret is refused, with and without SUBSCRIBER_JWT_SECRET', async () => {
    const pem = keys.RS256.pem;
    const forged = hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, pem);
    const pemOnly = await relay({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(pem) });
    expect(await pemOnly.verdict(forged)).toMatch(/rejected: token algorithm must be RS256\./);
    const both = await relay({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(pem), SUBSCRIBER_JWT_SECRET: SECRET });
    expect(await both.verdict(forged)).toMatch(/rejected: bad token signature/);
    // The same server accepts a real HS256 token and a real RS256 one.
    expect(await both.verdict(signJwt(SECRET, claims))).toBe('accepted');
    expect(await both.verdict(await signWith(keys.RS256, claims, { kid: null }))).toBe('accepted');
    // And the classic confusion the other way: an RS256 header "signed" by HMAC with the PEM.
    expect(await both.verdict(hmacToken({ alg: 'RS256', typ: 'JWT' }, claims, pem))).toMatch(/rejected: bad token signature/);
  });

  test('a file that is not one SPKI public key of RSA, EC P-256 or Ed25519 stops the start, naming the variable', async () => {
    const clock = { ms: TOKEN_NOW_MS };
    const load = (text: string) => loadKeys({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(text) }, clock, { readFile });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsaPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(load(p384)).rejects.toThrow(/^SUBSCRIBER_JWT_PUBLIC_KEY_FILE: .* must be an RSA \(RS256\), EC P-256 \(ES256\) or Ed25519 \(EdDSA\) key/);
    await expect(load(rsaPrivate)).rejects.toThrow(/^SUBSCRIBER_JWT_PUBLIC_KEY_FILE: .* exactly one PEM "PUBLIC KEY"/);
    await expect(load(keys.RS256.pem + keys.ES256.pem)).rejects.toThrow(/^SUBSCRIBER_JWT_PUBLIC_KEY_FILE: .* exactly one PEM "PUBLIC KEY"/);
    await expect(load('-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n')).rejects.toThrow(/^SUBSCRIBER_JWT_PUBLIC_KEY_FILE: .* not a readable public key/);
    await expect(loadKeys({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: join(dir, 'absent.pem') }, clock, { readFile })).rejects.toThrow(/^SUBSCRIBER_JWT_PUBLIC_KEY_FILE: cannot read .*absent\.pem/);
    // The well-formed control loads.
    await expect(load(keys.ES256.pem)).resolves.toBeDefined();
  });

  test('an app built without main\'s keys cannot read a key file, and says so', async () => {
    await expect(startTokenRelay({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(keys.RS256.pem) })).rejects.toThrow(/SUBSCRIBER_JWT_PUBLIC_KEY_FILE is set but files cannot be read here/);
  });
});

describe('a token without kid', () => {
  test('is checked against the JWKS\'s key when it holds exactly one, and refused when it holds two', async () => {
    const one = await jwksServer([keys.ES256]);
    const withOne = await relay({ SUBSCRIBER_JWKS_URL: one.url });
    expect(await withOne.verdict(await signWith(keys.ES256, claims, { kid: null }))).toBe('accepted');
    expect(await withOne.verdict(await signWith(keys.RS256, claims, { kid: null }))).toMatch(/rejected: token algorithm RS256 does not fit the key of the JWKS/);

    const two = await jwksServer([keys.ES256, keys.RS256]);
    const withTwo = await relay({ SUBSCRIBER_JWKS_URL: two.url });
    expect(await withTwo.verdict(await signWith(keys.ES256, claims, { kid: null }))).toMatch(/rejected: a token without kid needs exactly one configured public key; there are 2/);
    expect(await withTwo.verdict(await signWith(keys.ES256, claims))).toBe('accepted');
  });

  test('counts the PEM key and the JWKS keys together: one of each is two keys', async () => {
    const server = await jwksServer([keys.ES256]);
    const { verdict } = await relay({ SUBSCRIBER_JWKS_URL: server.url, SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(keys.RS256.pem) });
    expect(await verdict(await signWith(keys.RS256, claims, { kid: null }))).toMatch(/exactly one configured public key; there are 2/);
    expect(await verdict(await signWith(keys.ES256, claims, { kid: null }))).toMatch(/exactly one configured public key; there are 2/);
  });
});

describe('credentials combined', () => {
  test('secret, JWKS and PEM together: the keys are the union, each token checked against its own', async () => {
    const server = await jwksServer([keys.RS256, keys.EdDSA]);
    const { verdict } = await relay({ SUBSCRIBER_JWT_SECRET: SECRET, SUBSCRIBER_JWKS_URL: server.url, SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pemFile(keys.ES256.pem) });
    expect(await verdict(signJwt(SECRET, claims))).toBe('accepted');
    expect(await verdict(await signWith(keys.RS256, claims))).toBe('accepted');
    expect(await verdict(await signWith(keys.EdDSA, claims))).toBe('accepted');
    // A kid the JWKS does not hold falls to the PEM key.
    expect(await verdict(await signWith(keys.ES256, claims, { kid: 'pem-key' }))).toBe('accepted');
    expect(await verdict(await signWith(others.ES256, claims, { kid: 'pem-key' }))).toMatch(/rejected: bad token signature/);
    expect(await verdict(await signWith(others.RS256, claims, { kid: 'elsewhere' }))).toMatch(/rejected: token algorithm RS256 does not fit the configured ES256 key/);
  });
});

describe('SUBSCRIBER_JWT_ISSUER and SUBSCRIBER_JWT_AUDIENCE', () => {
  const ISSUER = 'https://idp.example.com/';
  const AUDIENCE = 'eventrelay';
  let server: JwksServer;
  let bound: TokenRelay;
  let unbound: TokenRelay;
  beforeAll(async () => {
    server = await startJwksServer([keys.RS256.jwk]);
    bound = await startTokenRelay({ SUBSCRIBER_JWT_SECRET: SECRET, SUBSCRIBER_JWKS_URL: server.url, SUBSCRIBER_JWT_ISSUER: ISSUER, SUBSCRIBER_JWT_AUDIENCE: AUDIENCE });
    unbound = await startTokenRelay({ SUBSCRIBER_JWT_SECRET: SECRET, SUBSCRIBER_JWKS_URL: server.url });
  });
  afterAll(async () => {
    await bound?.close();
    await unbound?.close();
    await server?.close();
  });

  const signers: [string, (payload: Record<string, unknown>) => Promise<string>][] = [
    ['HS256', async (payload) => signJwt(SECRET, payload)],
    ['RS256', (payload) => signWith(keys.RS256, payload)],
  ];

  describe.each(signers)('bind %s tokens', (_alg, sign) => {
    test('a token with the configured iss and aud is accepted, aud as a string or as an array holding it', async () => {
      expect(await bound.verdict(await sign({ ...claims, iss: ISSUER, aud: AUDIENCE }))).toBe('accepted');
      expect(await bound.verdict(await sign({ ...claims, iss: ISSUER, aud: ['other', AUDIENCE] }))).toBe('accepted');
    });

    test.each([
      ['another iss', { iss: 'https://evil.example.com/', aud: AUDIENCE }, /issuer \(iss\) does not match/],
      ['no iss', { aud: AUDIENCE }, /has no iss claim/],
      ['iss differing by a trailing slash', { iss: ISSUER.slice(0, -1), aud: AUDIENCE }, /issuer \(iss\) does not match/],
      ['another aud', { iss: ISSUER, aud: 'other' }, /audience \(aud\) does not match/],
      ['an aud array without it', { iss: ISSUER, aud: ['other', 'third'] }, /audience \(aud\) does not match/],
      ['no aud', { iss: ISSUER }, /has no aud claim/],
    ])('a token with %s is refused', async (_name, binding, reason) => {
      const token = await sign({ ...claims, ...binding });
      expect(await bound.verdict(token)).toMatch(reason);
      // Without the variables set, the same token is fine.
      expect(await unbound.verdict(token)).toBe('accepted');
    });
  });

  test('the HS256 signer of tests and bench sets iss and aud', async () => {
    const token = signSubscriberToken(SECRET, { channels: ['elsewhere'], iss: ISSUER, aud: [AUDIENCE], nowMs: TOKEN_NOW_MS });
    expect(await bound.verdict(token)).toBe('accepted');
  });
});
