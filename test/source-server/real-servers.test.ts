import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { buildClientApp } from '../../services/client-server/app.js';
import { signSubscriberToken } from '../../services/client-server/auth/jwt.js';
import { createMemoryEngine, type MemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { buildSourceApp } from '../../services/source-server/app.js';
import { PUBLISHER_KEY } from '../support/source-app.js';
import { SECRET } from '../support/client-server.js';

/**
 * Both servers listening on real ports over one engine, as `npm start` runs
 * them: what a producer, a WebSocket subscriber and an operator's curl see.
 */
let engine: MemoryEngine;
let source: FastifyInstance;
let client: FastifyInstance;
let sourceUrl: string;
let wsUrl: string;

beforeAll(async () => {
  const config = loadConfig({ PUBLISHER_KEYS: PUBLISHER_KEY, SUBSCRIBER_JWT_SECRET: SECRET, LOG_LEVEL: 'silent', HISTORY_SIZE: '2000' });
  const logger = pino({ level: 'silent' });
  engine = createMemoryEngine({ config, logger });
  source = buildSourceApp({ config, logger, engine });
  client = await buildClientApp({ config, logger, engine });
  await source.listen({ host: '127.0.0.1', port: 0 });
  await client.listen({ host: '127.0.0.1', port: 0 });
  sourceUrl = `http://127.0.0.1:${(source.server.address() as { port: number }).port}`;
  wsUrl = `ws://127.0.0.1:${(client.server.address() as { port: number }).port}/v1/ws`;
});
afterAll(async () => {
  await client?.clientRelay.drain(0);
  await Promise.all([client?.close(), source?.close()]);
  await engine?.close();
});

const auth = { authorization: `Bearer ${PUBLISHER_KEY}` };

/** A WebSocket subscriber keeping the raw text of every frame: JSON.parse would round the digits this test is about. */
async function rawSubscriber(channel: string): Promise<{ frames: string[]; next(): Promise<string>; close(): void }> {
  const token = signSubscriberToken(SECRET, { channels: [channel] });
  const ws = new WebSocket(`${wsUrl}?token=${token}`);
  const frames: string[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    frames.push(data.toString());
    wake?.();
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let taken = 0;
  const next = async () => {
    const deadline = Date.now() + 5000;
    while (taken >= frames.length) {
      if (Date.now() > deadline) throw new Error(`no frame; got ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return frames[taken++]!;
  };
  ws.send(JSON.stringify({ type: 'subscribe', channel }));
  expect(JSON.parse(await next())).toMatchObject({ type: 'subscribed', channel });
  return { frames, next, close: () => ws.close() };
}

describe('source-server and client-server on real ports', () => {
  test('12345678901234567890 in batch data reaches a WebSocket subscriber digit for digit, and the history endpoint shows the same frame', async () => {
    const subscriber = await rawSubscriber('digits');
    try {
      const response = await fetch(`${sourceUrl}/v1/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"events":[{"channel":"digits","data":{"n":12345678901234567890,"price":10.50}}]}',
      });
      expect(response.status).toBe(200);
      const frame = await subscriber.next();
      expect(frame).toContain('"data":{"n":12345678901234567890,"price":10.50}');

      const history = await (await fetch(`${sourceUrl}/v1/channels/digits/events`, { headers: auth })).text();
      expect(history).toBe(`{"events":[${frame}],"recovered":true,"next":null}`);
    } finally {
      subscriber.close();
    }
  });

  test('a history page over HTTP chains with next to every event, in id order', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({ channel: 'pages', data: i }));
    const published = await fetch(`${sourceUrl}/v1/events`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    const ids = ((await published.json()) as { results: { id: string }[] }).results.map((r) => r.id);
    const seen: number[] = [];
    let since: string | null = ids[0]!;
    while (since !== null) {
      const page = (await (await fetch(`${sourceUrl}/v1/channels/pages/events?since=${since}&limit=300`, { headers: auth })).json()) as { events: { data: number }[]; next: string | null };
      seen.push(...page.events.map((e) => e.data));
      since = page.next;
    }
    expect(seen).toEqual(events.slice(1).map((e) => e.data));
  });

  test('a CORS preflight from an unlisted origin gets no allow headers (PUBLISH_ALLOWED_ORIGINS is empty by default)', async () => {
    const response = await fetch(`${sourceUrl}/v1/channels`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8081', 'access-control-request-method': 'GET' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
