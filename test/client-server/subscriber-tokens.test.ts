import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import { createMemoryEngine, type MemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildClientApp } from '../../services/client-server/app.js';

/**
 * The subscriber JWT is HS256 with SUBSCRIBER_JWT_SECRET and nothing else:
 * every other algorithm header, and the classic RS/HS confusion, is a 401
 * `unauthorized`; `exp` and `nbf` are honoured. Checked at the HTTP door of
 * both transports (SSE request, WebSocket upgrade) through app.inject.
 */

const SECRET = 'subscriber-secret-subscriber-secret-0123';
const NOW_MS = 1_800_000_000_000;
const now = Math.floor(NOW_MS / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let app: FastifyInstance;
let engine: MemoryEngine;
beforeAll(async () => {
  const config = loadConfig({ SUBSCRIBER_JWT_SECRET: SECRET });
  const logger = pino({ level: 'silent' });
  engine = createMemoryEngine({ config, logger });
  app = await buildClientApp({ config, logger, engine, now: () => NOW_MS });
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const claims = { channels: ['news'], exp: now + 600 };

function hmacToken(header: Record<string, unknown>, payload: Record<string, unknown>, key: string | Buffer, hash = 'sha256'): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac(hash, key).update(head).digest('base64url')}`;
}

const forged: [string, string][] = [
  ['alg none, no signature', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
  ['alg "None"', `${b64({ alg: 'None' })}.${b64(claims)}.`],
  ['alg none with an HS256 signature attached', hmacToken({ alg: 'none' }, claims, SECRET)],
  ['HS384 signed with the right secret', hmacToken({ alg: 'HS384', typ: 'JWT' }, claims, SECRET, 'sha384')],
  ['HS512 signed with the right secret', hmacToken({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512')],
  ['RS256 really signed with an RSA key', (() => {
    const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
    return `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
  })()],
  ['RS256 header, "signed" with the RSA public key as HMAC secret', hmacToken({ alg: 'RS256', typ: 'JWT' }, claims, publicPem)],
  ['HS256 "signed" with the RSA public key as HMAC secret', hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, publicPem)],
  ['HS256 signed with another secret', signJwt('another-secret-another-secret-0123456789', claims)],
  ['no alg at all', hmacToken({ typ: 'JWT' }, claims, SECRET)],
  ['a typ that is not JWT', hmacToken({ alg: 'HS256', typ: 'JWE' }, claims, SECRET)],
  ['expired one second ago', signJwt(SECRET, { channels: ['news'], exp: now - 1 })],
  ['expiring exactly now', signJwt(SECRET, { channels: ['news'], exp: now })],
  ['not valid before a minute from now', signJwt(SECRET, { channels: ['news'], nbf: now + 60 })],
  ['exp as a string', signJwt(SECRET, { channels: ['news'], exp: String(now + 600) })],
  ['two parts only', `${b64({ alg: 'HS256' })}.${b64(claims)}`],
  ['a payload that is not JSON', `${b64({ alg: 'HS256' })}.bm90LWpzb24.${createHmac('sha256', SECRET).update(`${b64({ alg: 'HS256' })}.bm90LWpzb24`).digest('base64url')}`],
];

function sse(token: string) {
  return app.inject({ method: 'GET', url: `/v1/sse/news?token=${encodeURIComponent(token)}`, headers: { accept: 'text/event-stream' } });
}

function upgrade(token: string) {
  return app.inject({
    method: 'GET',
    url: '/v1/ws',
    headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
  });
}

describe('subscriber tokens', () => {
  test.each(forged)('%s is refused with 401 unauthorized', async (_name, token) => {
    for (const res of [await sse(token), await upgrade(token)]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  test('a token that became valid a second ago, and expires later, is accepted (the refusals above are not blanket)', async () => {
    const token = signJwt(SECRET, { channels: ['other'], nbf: now - 1, exp: now + 1 });
    // `other` is allowed, `news` is not: a 403 proves the token itself passed.
    const res = await sse(token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
  });
});
