import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { JWKS_REFETCH_COOLDOWN_MS } from '../../services/client-server/auth/remote-jwks.js';
import { freePort } from '../../tools/ports.js';
import { signingKey, signWith, startJwksServer, type JwksServer, type PublicKeyAlg, type SigningKey } from '../support/jwks-server.js';
import { loadKeys, startTokenRelay, TOKEN_NOW_MS, type TokenRelay } from '../support/token-relay.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * PROTOCOL.md Tokens v1.1, SUBSCRIBER_JWKS_URL: RS256, ES256 and EdDSA
 * tokens against the keys of a JWKS that a real HTTP server in this test
 * serves; the token's `kid` picks the key; the document is fetched at start
 * and refreshed; an unknown `kid` refetches at most once per 30 s (counted
 * at the server, on the app's clock).
 */

const now = TOKEN_NOW_MS / 1000;
const claims = { channels: ['elsewhere'], exp: now + 600 };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function jwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const server = await startJwksServer(keys.map((k) => k.jwk));
  cleanups.push(() => server.close());
  return server;
}

async function relay(env: Record<string, string>, options: Parameters<typeof startTokenRelay>[1] = {}): Promise<TokenRelay> {
  const started = await startTokenRelay(env, options);
  cleanups.push(() => started.close());
  return started;
}

const ALGS: PublicKeyAlg[] = ['RS256', 'ES256', 'EdDSA'];
let keys: Record<PublicKeyAlg, SigningKey>;
let impostors: Record<PublicKeyAlg, SigningKey>;
beforeAll(async () => {
  keys = { RS256: await signingKey('RS256', 'k-rsa'), ES256: await signingKey('ES256', 'k-ec'), EdDSA: await signingKey('EdDSA', 'k-ed') };
  // Same kids, other key pairs: what an attacker who knows the kids can sign.
  impostors = { RS256: await signingKey('RS256', 'k-rsa'), ES256: await signingKey('ES256', 'k-ec'), EdDSA: await signingKey('EdDSA', 'k-ed') };
});

describe('tokens verified against a JWKS', () => {
  test.each(ALGS)('an %s token whose kid is in the JWKS is accepted; the same kid signed by another key is refused', async (alg) => {
    const server = await jwksServer(Object.values(keys));
    const { verdict } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    expect(await verdict(await signWith(keys[alg], claims))).toBe('accepted');
    expect(await verdict(await signWith(impostors[alg], claims))).toBe('The subscriber token was rejected: bad token signature.');
  });

  test('a token of each algorithm opens a real WebSocket subscription', async () => {
    const server = await jwksServer(Object.values(keys));
    const { app } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    for (const alg of ALGS) {
      const socket = await TestSocket.open(`ws://127.0.0.1:${port}/v1/ws`, { token: await signWith(keys[alg], { channels: ['news'], exp: now + 600 }) });
      expect(await socket.subscribe('news')).toMatchObject({ type: 'subscribed', channel: 'news' });
      socket.ws.close();
    }
  });

  test('exp and nbf are honoured as for HS256, with no leeway', async () => {
    const server = await jwksServer([keys.RS256]);
    const { verdict } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    const sign = (payload: Record<string, unknown>) => signWith(keys.RS256, { channels: ['elsewhere'], ...payload });
    expect(await verdict(await sign({ exp: now - 1 }))).toMatch(/rejected: token expired/);
    expect(await verdict(await sign({ exp: now }))).toMatch(/rejected: token expired/);
    expect(await verdict(await sign({ nbf: now + 60 }))).toMatch(/rejected: token not yet valid/);
    expect(await verdict(await sign({ nbf: now, exp: now + 1 }))).toBe('accepted');
  });

  test('an alg that does not fit the key its kid names is refused, whichever way round', async () => {
    const server = await jwksServer(Object.values(keys));
    const { verdict } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    // Signed correctly by the RSA key, but claiming the EC key's kid: jose offers no EC key for RS256.
    expect(await verdict(await signWith(keys.RS256, claims, { kid: 'k-ec' }))).toMatch(/rejected: no key of the JWKS has kid "k-ec" and fits RS256/);
    expect(await verdict(await signWith(keys.ES256, claims, { kid: 'k-rsa' }))).toMatch(/rejected: no key of the JWKS has kid "k-rsa" and fits ES256/);
    expect(await verdict(await signWith(keys.EdDSA, claims, { kid: 'k-ec' }))).toMatch(/rejected: no key of the JWKS has kid "k-ec" and fits EdDSA/);
  });

  test('alg none is refused, with a kid of the JWKS and without', async () => {
    const server = await jwksServer([keys.RS256]);
    const { verdict } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    for (const header of [{ alg: 'none', kid: 'k-rsa' }, { alg: 'none' }, { alg: 'NONE', typ: 'JWT' }]) {
      expect(await verdict(`${b64(header)}.${b64(claims)}.`)).toMatch(/rejected: token algorithm must be RS256 or ES256 or EdDSA/);
    }
  });
});

describe('refetching the JWKS', () => {
  test('a key added to the JWKS while the app runs is used without a restart, once the cooldown since the last fetch is over', async () => {
    const server = await jwksServer([keys.RS256]);
    const { verdict, clock } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    const next = await signingKey('ES256', 'k-next');
    server.keys = [keys.RS256.jwk, next.jwk];
    clock.ms += JWKS_REFETCH_COOLDOWN_MS;
    expect(await verdict(await signWith(next, claims))).toBe('accepted');
    expect(await verdict(await signWith(keys.RS256, claims))).toBe('accepted');
    expect(server.requests).toBe(2);
  });

  test('unknown kids refetch the JWKS at most once per 30 s, however many arrive at once', async () => {
    const server = await jwksServer([keys.RS256]);
    const { verdict, clock } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    expect(server.requests).toBe(1); // the fetch at start
    const stranger = async (kid: string) => verdict(await signWith(keys.RS256, claims, { kid }));

    // Within 30 s of the fetch at start: nothing is fetched.
    clock.ms += JWKS_REFETCH_COOLDOWN_MS - 1;
    for (let i = 0; i < 5; i++) expect(await stranger(`unknown-${i}`)).toMatch(/rejected: no key of the JWKS has kid "unknown-\d"/);
    expect(server.requests).toBe(1);

    // 30 s after it: one fetch for twenty tokens arriving together.
    clock.ms += 1;
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => stranger(`burst-${i}`)));
    expect(verdicts.every((v) => v.includes('no key of the JWKS has kid'))).toBe(true);
    expect(server.requests).toBe(2);

    // The cooldown runs from that refetch.
    clock.ms += JWKS_REFETCH_COOLDOWN_MS - 1;
    await stranger('later');
    expect(server.requests).toBe(2);
    clock.ms += 1;
    await stranger('later');
    expect(server.requests).toBe(3);
  });

  test('a refetch that fails also waits out the cooldown, and the keys fetched before stay in use', async () => {
    const server = await jwksServer([keys.RS256]);
    const { verdict, clock } = await relay({ SUBSCRIBER_JWKS_URL: server.url });
    server.status = 500;
    clock.ms += JWKS_REFETCH_COOLDOWN_MS;
    expect(await verdict(await signWith(keys.RS256, claims, { kid: 'unknown' }))).toMatch(/rejected: no key of the JWKS has kid "unknown"/);
    expect(server.requests).toBe(2);
    clock.ms += JWKS_REFETCH_COOLDOWN_MS - 1;
    expect(await verdict(await signWith(keys.RS256, claims, { kid: 'unknown' }))).toMatch(/rejected/);
    expect(server.requests).toBe(2);
    expect(await verdict(await signWith(keys.RS256, claims))).toBe('accepted');
  });

  test('the JWKS is refreshed on a timer: a key removed from it stops being accepted without any unknown kid', async () => {
    const server = await jwksServer([keys.RS256, keys.ES256]);
    const { verdict } = await relay(
      { SUBSCRIBER_JWKS_URL: server.url },
      { keys: (clock) => loadKeys({ SUBSCRIBER_JWKS_URL: server.url }, clock, { jwksRefreshIntervalMs: 50 }) },
    );
    const token = await signWith(keys.ES256, claims);
    expect(await verdict(token)).toBe('accepted');
    server.keys = [keys.RS256.jwk];
    const deadline = Date.now() + 10_000;
    while ((await verdict(token)) === 'accepted') {
      if (Date.now() > deadline) throw new Error(`the removed key was still accepted after ${server.requests} fetches`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await verdict(token)).toMatch(/rejected: no key of the JWKS has kid "k-ec"/);
    expect(await verdict(await signWith(keys.RS256, claims))).toBe('accepted');
  });
});

describe('the JWKS fetch at start', () => {
  test('a URL that answers no JWKS, or nothing, stops the start with a message naming SUBSCRIBER_JWKS_URL', async () => {
    const server = await jwksServer([keys.RS256]);
    const clock = { ms: TOKEN_NOW_MS };
    await expect(loadKeys({ SUBSCRIBER_JWKS_URL: server.url.replace('/jwks', '/missing') }, clock)).rejects.toThrow(/^SUBSCRIBER_JWKS_URL: cannot fetch .*\/missing \(HTTP 404\)/);
    server.status = 503;
    await expect(loadKeys({ SUBSCRIBER_JWKS_URL: server.url }, clock)).rejects.toThrow(/^SUBSCRIBER_JWKS_URL: cannot fetch .* \(HTTP 503\)/);
    server.status = 200;
    server.keys = 'not a list' as never;
    await expect(loadKeys({ SUBSCRIBER_JWKS_URL: server.url }, clock)).rejects.toThrow(/^SUBSCRIBER_JWKS_URL: .* did not answer a JWKS document/);
    const closed = `http://127.0.0.1:${await freePort()}/jwks`;
    await expect(loadKeys({ SUBSCRIBER_JWKS_URL: closed }, clock)).rejects.toThrow(/^SUBSCRIBER_JWKS_URL: cannot fetch .*ECONNREFUSED/);
    // The app built without keys of its own fetches too, and fails the same way.
    await expect(startTokenRelay({ SUBSCRIBER_JWKS_URL: closed })).rejects.toThrow(/^SUBSCRIBER_JWKS_URL/);
  });

  test('with AUTH_DISABLED nothing is fetched', async () => {
    const server = await jwksServer([keys.RS256]);
    await relay({ SUBSCRIBER_JWKS_URL: server.url, AUTH_DISABLED: 'true' });
    expect(server.requests).toBe(0);
  });
});
