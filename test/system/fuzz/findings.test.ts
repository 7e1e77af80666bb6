import { describe, expect, test } from 'vitest';
import { startClientServer } from '../../support/client-server.js';
import { errorCode, publish, publishBatch, useSource } from '../../support/source-app.js';

/** What the fuzzer found, kept as plain regression tests so that they run whatever the seed. */
describe('inputs the fuzzer found', () => {
  test('a path with broken percent-encoding is a coded 400, not fastify\'s own body', async () => {
    const { app } = useSource();
    for (const url of ['/v1/channels/%ZZ/events', '/v1/channels/%/events', '/%E0%A4%A']) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(400);
      expect(errorCode(res)).toBe('invalid_request');
    }
  });

  test('batch data nested 100,000 deep is answered 400 invalid_request, not 500', async () => {
    const { app, logs } = useSource();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await publishBatch(app, `{"events":[{"channel":"news","data":${deep}}]}`);
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('invalid_request');
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  test('a multi-line single event nested 30,000 deep is answered 400 invalid_request, not 500', async () => {
    const { app } = useSource();
    const res = await publish(app, 'news', `\n${'['.repeat(30_000)}${']'.repeat(30_000)}\n`);
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('invalid_request');
  });
});

describe('inputs the fuzzer found, on the client-server', () => {
  test('an SSE path with broken percent-encoding is a coded 400', async () => {
    const server = await startClientServer();
    try {
      const res = await server.app.inject({ method: 'GET', url: '/v1/sse/%ZZ', headers: { accept: 'text/event-stream' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    } finally {
      await server.close();
    }
  });
});
