import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { signJwt } from '../../services/client-server/auth/jwt.js';
import { freePort } from '../../tools/ports.js';
import { signingKey, signWith, startJwksServer, type JwksServer, type SigningKey } from '../support/jwks-server.js';
import { stopChild } from '../support/local-stack.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * The real processes (`node dist/services/...`, after `npm run build`):
 * main.ts reads SUBSCRIBER_JWT_PUBLIC_KEY_FILE and fetches
 * SUBSCRIBER_JWKS_URL before it listens; a key it cannot get stops the
 * start with a message naming the variable. The JWKS server runs in this
 * test process, so the children are spawned asynchronously.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PUBLISHER_KEY = 'token-start-publisher-key-0123';

const dir = mkdtempSync(join(tmpdir(), 'eventrelay-token-start-'));
let rsa: SigningKey;
let ed: SigningKey;
let jwks: JwksServer;
beforeAll(async () => {
  rsa = await signingKey('RS256', 'k-rsa');
  ed = await signingKey('EdDSA', 'k-ed');
  jwks = await startJwksServer([ed.jwk]);
});
afterAll(async () => {
  await jwks?.close();
  rmSync(dir, { recursive: true, force: true });
});

const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopChild(c, 'SIGKILL')));
});

function launch(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [`dist/services/${script}/main.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { output: () => output, exited };
}

describe('a key that cannot be had stops the start, naming its variable', () => {
  test.each([
    ['a JWKS URL nothing listens on', async () => ({ SUBSCRIBER_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks` }), /SUBSCRIBER_JWKS_URL: cannot fetch/],
    ['a JWKS URL that answers 404', async () => ({ SUBSCRIBER_JWKS_URL: jwks.url.replace('/jwks', '/nope') }), /SUBSCRIBER_JWKS_URL: cannot fetch .*HTTP 404/],
    ['a PEM file that does not exist', async () => ({ SUBSCRIBER_JWT_PUBLIC_KEY_FILE: join(dir, 'absent.pem') }), /SUBSCRIBER_JWT_PUBLIC_KEY_FILE: cannot read/],
  ])('the client-server, given %s, exits 1', async (_name, env, message) => {
    // REDIS_URL points nowhere: the keys are loaded before the engine, so Redis is never reached.
    const run = launch('client-server', { REDIS_URL: 'redis://127.0.0.1:1', CLIENT_PORT: String(await freePort()), ...(await env()) });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(message);
  });
});

test('embedded mode with a PEM file and a JWKS URL keeps auth on and relays to RS256 and EdDSA subscribers; an HS256 token is refused', async () => {
  const pem = join(dir, 'subscriber.pem');
  writeFileSync(pem, rsa.pem);
  const [sourcePort, clientPort] = [await freePort(), await freePort()];
  const run = launch('embedded', {
    PUBLISHER_KEYS: PUBLISHER_KEY,
    SUBSCRIBER_JWT_PUBLIC_KEY_FILE: pem,
    SUBSCRIBER_JWKS_URL: jwks.url,
    SOURCE_PORT: String(sourcePort),
    CLIENT_PORT: String(clientPort),
  });
  const deadline = Date.now() + 15_000;
  while (!run.output().includes('client-server listening')) {
    if (Date.now() > deadline) throw new Error(`embedded mode did not start: ${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(run.output()).not.toContain('AUTH IS DISABLED');
  const wsUrl = `ws://127.0.0.1:${clientPort}/v1/ws`;
  const exp = Math.floor(Date.now() / 1000) + 600;
  // The RS256 token is checked against the PEM key (its kid is not in the JWKS), the EdDSA one against the JWKS.
  const sockets = [
    await TestSocket.open(wsUrl, { token: await signWith(rsa, { channels: ['news'], exp }) }),
    await TestSocket.open(wsUrl, { token: await signWith(ed, { channels: ['news'], exp }) }),
  ];
  for (const socket of sockets) expect(await socket.subscribe('news')).toMatchObject({ type: 'subscribed', channel: 'news' });
  const res = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/news/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PUBLISHER_KEY}`, 'content-type': 'application/json' },
    body: '{"hello":"keys"}',
  });
  expect(res.status).toBe(200);
  for (const socket of sockets) {
    const [event] = await socket.waitForEvents('news', 1);
    expect(event).toMatchObject({ type: 'event', channel: 'news', data: { hello: 'keys' } });
    socket.ws.close();
  }
  const refused = await TestSocket.open(wsUrl, { token: signJwt('s'.repeat(40), { channels: ['news'] }) }).catch((err: { status: number; body: string }) => err);
  expect(refused).toMatchObject({ status: 401 });
  expect((refused as { body: string }).body).toContain('token algorithm must be RS256 or ES256 or EdDSA');
});
