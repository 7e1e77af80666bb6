import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clientCredentialProblems } from '../../services/client-server/app.js';
import { MAX_INFO_BYTES } from '../../services/client-server/auth/claims.js';
import { signJwt, signSubscriberToken, verifySubscriberToken } from '../../services/client-server/auth/jwt.js';
import { authenticateSubscriber } from '../../services/client-server/auth/subscriber-auth.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { startTokenRelay, TOKEN_NOW_MS, type TokenRelay } from '../support/token-relay.js';

/**
 * PROTOCOL.md Tokens v1.1, Claims: `sub`, `channels`, `publish`,
 * `presence`, `info` (a JSON object of at most 1 KiB; anything else is a
 * bad token: 401 at both doors), what AUTH_DISABLED allows, and which
 * variables count as the client-server's credential.
 */

const SECRET = 'token-claims-secret-token-claims-secret-01';
const now = TOKEN_NOW_MS / 1000;
const verify = (token: string) => verifySubscriberToken(token, SECRET, TOKEN_NOW_MS);

let relay: TokenRelay;
beforeAll(async () => {
  relay = await startTokenRelay({ SUBSCRIBER_JWT_SECRET: SECRET });
});
afterAll(async () => {
  await relay?.close();
});

describe('publish and presence claims', () => {
  test('are channel patterns like channels, each allowing only what it lists', async () => {
    const claims = await verify(signSubscriberToken(SECRET, { channels: ['news'], publish: ['room:*'], presence: ['room:1', 'lobby'], nowMs: TOKEN_NOW_MS }));
    expect(['room:1', 'room:2:x', 'room:'].every((c) => claims.publish.allows(c))).toBe(true);
    expect(['news', 'room', 'lobby'].some((c) => claims.publish.allows(c))).toBe(false);
    expect(['room:1', 'lobby'].every((c) => claims.presence.allows(c))).toBe(true);
    expect(['room:2', 'news'].some((c) => claims.presence.allows(c))).toBe(false);
    expect(claims.channels.allows('room:1')).toBe(false);
  });

  test('absent, they allow nothing, whatever channels allows', async () => {
    const claims = await verify(signSubscriberToken(SECRET, { channels: ['*'] }));
    expect(claims.publish.allows('news')).toBe(false);
    expect(claims.presence.allows('news')).toBe(false);
  });

  test.each([
    ['publish as a string', { publish: 'room:*' }, 'publish claim must be a list of strings'],
    ['publish holding a number', { publish: ['room:1', 2] }, 'publish claim must be a list of strings'],
    ['presence as an object', { presence: { 'room:1': true } }, 'presence claim must be a list of strings'],
  ])('%s is a bad token: 401 at both doors', async (_name, payload, reason) => {
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], ...payload }))).toBe(`The subscriber token was rejected: ${reason}.`);
  });
});

describe('the info claim', () => {
  test('is the JSON object of the token, or {} when absent', async () => {
    const info = { name: 'Ada', avatar: 'https://example.com/a.png', tags: ['admin'], n: 1 };
    expect((await verify(signSubscriberToken(SECRET, { channels: [], info }))).info).toEqual(info);
    expect((await verify(signSubscriberToken(SECRET, { channels: [] }))).info).toEqual({});
  });

  test(`is accepted at exactly ${MAX_INFO_BYTES} bytes of JSON and refused one byte over, counting UTF-8 bytes`, async () => {
    const sized = (bytes: number, char = 'x') => ({ s: char.repeat((bytes - '{"s":""}'.length) / Buffer.byteLength(char)) });
    expect(Buffer.byteLength(JSON.stringify(sized(MAX_INFO_BYTES)))).toBe(MAX_INFO_BYTES);
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], info: sized(MAX_INFO_BYTES) }))).toBe('accepted');
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], info: sized(MAX_INFO_BYTES + 1) }))).toBe(
      `The subscriber token was rejected: info claim must be at most ${MAX_INFO_BYTES} bytes of JSON.`,
    );
    // 600 characters, 1,200 bytes: the limit is on bytes.
    const wide = { s: 'é'.repeat(600) };
    expect(JSON.stringify(wide).length).toBeLessThan(MAX_INFO_BYTES);
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], info: wide }))).toMatch(/info claim must be at most/);
  });

  test.each([
    ['an array', [{ name: 'Ada' }]],
    ['a string', 'Ada'],
    ['a number', 42],
    ['null', null],
    ['true', true],
  ])('as %s is a bad token: 401 at both doors', async (_name, info) => {
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], info }))).toBe('The subscriber token was rejected: info claim must be a JSON object.');
  });
});

describe('the sub claim', () => {
  test('is the user id', async () => {
    expect((await verify(signSubscriberToken(SECRET, { channels: [], sub: 'user-42' }))).sub).toBe('user-42');
    expect((await verify(signSubscriberToken(SECRET, { channels: [] }))).sub).toBeUndefined();
  });

  test.each([
    ['a number', 42],
    ['an empty string', ''],
  ])('as %s is a bad token', async (_name, sub) => {
    expect(await relay.verdict(signJwt(SECRET, { channels: ['elsewhere'], sub }))).toBe('The subscriber token was rejected: sub must be a non-empty string.');
  });
});

describe('AUTH_DISABLED', () => {
  test('allows every channel for subscribe, publish and presence, with an anonymous user id of its own per connection', async () => {
    const noRequest = {} as FastifyRequest; // with auth off, nothing of the request is read
    const first = await authenticateSubscriber(noRequest, { authDisabled: true }, TOKEN_NOW_MS);
    const second = await authenticateSubscriber(noRequest, { authDisabled: true }, TOKEN_NOW_MS);
    for (const claims of [first, second]) {
      expect(claims.sub).toMatch(/^anonymous-[0-9a-f]{12}$/);
      expect(['news', 'room:1', 'a.b-c_d:e'].every((c) => claims.channels.allows(c) && claims.publish.allows(c) && claims.presence.allows(c))).toBe(true);
      expect(claims.info).toEqual({});
      expect(claims.exp).toBeUndefined();
    }
    expect(first.sub).not.toBe(second.sub);
  });
});

describe("the client-server's credential", () => {
  const problems = (env: Record<string, string>) => clientCredentialProblems(loadConfig(env));

  test('is any one of SUBSCRIBER_JWT_SECRET, SUBSCRIBER_JWKS_URL, SUBSCRIBER_JWT_PUBLIC_KEY_FILE', () => {
    expect(problems({ SUBSCRIBER_JWT_SECRET: SECRET })).toEqual([]);
    expect(problems({ SUBSCRIBER_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' })).toEqual([]);
    expect(problems({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: '/etc/eventrelay/subscriber.pem' })).toEqual([]);
    expect(problems({ AUTH_DISABLED: 'true' })).toEqual([]);
  });

  test('missing, the start is refused with a message naming all three', () => {
    const [problem] = problems({ SUBSCRIBER_JWT_ISSUER: 'https://idp.example.com/' });
    expect(problem).toMatch(/SUBSCRIBER_JWT_SECRET.*SUBSCRIBER_JWKS_URL.*SUBSCRIBER_JWT_PUBLIC_KEY_FILE.*AUTH_DISABLED=true/);
  });
});

test('a token that has exp as a number keeps it for the expiry of open connections', async () => {
  expect((await verify(signJwt(SECRET, { channels: [], exp: now + 60 }))).exp).toBe(now + 60);
});
