import { describe, expect, test } from 'vitest';
import { ChannelPatterns } from '../../services/client-server/auth/channel-patterns.js';
import { TokenError, signJwt, signSubscriberToken, verifySubscriberToken } from '../../services/client-server/auth/jwt.js';
import { PublisherKeys } from '../../services/source-server/plugins/publisher-keys.js';
import { bearerToken } from '../../services/protocol/bearer.js';

const SECRET = 'unit-secret-unit-secret-unit-secret-000';
const NOW = 1_800_000_000_000;

describe('channel patterns', () => {
  test('* matches any run of characters, including none and colons', () => {
    const p = new ChannelPatterns(['news', 'orders:*', '*:audit', 'a*b*c']);
    expect(['news', 'orders:', 'orders:eu', 'orders:eu:1', 'x:audit', 'abc', 'a-b-c'].every((c) => p.allows(c))).toBe(true);
    expect(['newsy', 'orders', 'audit', 'ab', 'xnews'].some((c) => p.allows(c))).toBe(false);
  });

  test('regex characters in a pattern are literal', () => {
    const p = new ChannelPatterns(['a.b']);
    expect(p.allows('a.b')).toBe(true);
    expect(p.allows('axb')).toBe(false);
  });

  test('no patterns allow nothing', () => {
    expect(ChannelPatterns.NONE.allows('news')).toBe(false);
  });
});

describe('subscriber tokens', () => {
  test('a token minted here verifies, with its channels and exp', async () => {
    const token = signSubscriberToken(SECRET, { channels: ['news'], ttlSeconds: 60, nowMs: NOW });
    const claims = await verifySubscriberToken(token, SECRET, NOW);
    expect(claims.channels.allows('news')).toBe(true);
    expect(claims.channels.allows('other')).toBe(false);
    expect(claims.exp).toBe(NOW / 1000 + 60);
  });

  test.each([
    ['expired', () => signJwt(SECRET, { channels: ['*'], exp: NOW / 1000 - 1 })],
    ['expiring now', () => signJwt(SECRET, { channels: ['*'], exp: NOW / 1000 })],
    ['not yet valid', () => signJwt(SECRET, { channels: ['*'], nbf: NOW / 1000 + 60 })],
    ['alg none', () => signJwt(SECRET, { channels: ['*'] }, { alg: 'none', typ: 'JWT' })],
    ['alg HS512', () => signJwt(SECRET, { channels: ['*'] }, { alg: 'HS512', typ: 'JWT' })],
    ['alg RS256', () => signJwt(SECRET, { channels: ['*'] }, { alg: 'RS256', typ: 'JWT' })],
    ['another secret', () => signJwt('other-secret-other-secret-other-secret', { channels: ['*'] })],
    ['channels not a list', () => signJwt(SECRET, { channels: 'news' })],
    ['exp not a number', () => signJwt(SECRET, { channels: ['*'], exp: 'soon' })],
    ['garbage', () => 'a.b.c'],
    ['two parts', () => 'a.b'],
    ['huge', () => 'a'.repeat(10_000)],
  ])('a token %s is rejected', async (_name, make) => {
    await expect(verifySubscriberToken(make(), SECRET, NOW)).rejects.toThrow(TokenError);
  });

  test('a tampered payload is rejected', async () => {
    const [h, , s] = signSubscriberToken(SECRET, { channels: ['news'] }).split('.');
    const forged = Buffer.from(JSON.stringify({ channels: ['*'] })).toString('base64url');
    await expect(verifySubscriberToken(`${h}.${forged}.${s}`, SECRET, NOW)).rejects.toThrow(TokenError);
  });

  test('a token without a channels claim allows no channel', async () => {
    expect((await verifySubscriberToken(signJwt(SECRET, { sub: 'u1' }), SECRET, NOW)).channels.allows('news')).toBe(false);
  });
});

describe('publisher keys', () => {
  test('any configured key verifies; others, prefixes and extensions do not', () => {
    const keys = new PublisherKeys(['key-one-0123456789', 'key-two-0123456789']);
    expect(keys.verify('key-one-0123456789')).toBe(true);
    expect(keys.verify('key-two-0123456789')).toBe(true);
    expect(keys.verify('key-one-012345678')).toBe(false);
    expect(keys.verify('key-one-01234567890')).toBe(false);
    expect(keys.verify('')).toBe(false);
  });

  test('the Bearer scheme is parsed case-insensitively and strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
