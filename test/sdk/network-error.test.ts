import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { describeNetworkError } from '../../sdk/src/node.js';
import { freePort } from '../../tools/ports.js';

const failure = (url: string) => fetch(url).then(() => expect.unreachable('the fetch succeeded'), (err: unknown) => err);

describe('describeNetworkError names the cause of a failed connection', () => {
  test('a closed port: connection refused (ECONNREFUSED), found inside fetch failed', async () => {
    const port = await freePort();
    expect(describeNetworkError(await failure(`http://127.0.0.1:${port}/`))).toBe(`connection refused by 127.0.0.1:${port} (ECONNREFUSED): nothing is listening there`);
  });

  test('https to a plain-http server: a TLS error in OpenSSL\'s last words', async () => {
    const server = createServer((_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const err = await failure(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(describeNetworkError(err)).toMatch(/^TLS error: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)$/);
    } finally {
      server.close();
    }
  });

  test('a name that does not resolve: DNS lookup failed (ENOTFOUND), in the shape undici reports it', () => {
    // Built by hand: a real lookup would ask a DNS server, which this machine must not reach.
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND relay.example'), { code: 'ENOTFOUND', hostname: 'relay.example' });
    expect(describeNetworkError(new TypeError('fetch failed', { cause }))).toBe('DNS lookup failed: no such host relay.example (ENOTFOUND)');
  });

  test('an error without a code: the messages of it and its causes', () => {
    expect(describeNetworkError(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe('fetch failed: bad port');
  });
});
