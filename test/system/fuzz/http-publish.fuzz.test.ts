import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryBus } from '../../../services/engine/memory/memory-bus.js';
import { loadConfig } from '../../../services/runtime/config/load.js';
import { buildSourceApp } from '../../../services/source-server/app.js';
import { MiB, timeoutFor, PROTOCOL_STATUS, fuzzRuns, fuzzSeed, heapUsedAfterGc } from '../../support/fuzz-oracle.js';
import { engineOf } from '../../support/engines.js';

/**
 * Malformed publish and server API requests through app.inject: bodies,
 * headers, paths, query strings. Every answer is a 200 with the documented
 * shape or a coded error whose status matches PROTOCOL.md; never a 5xx,
 * never a crash; the app keeps answering and its heap stays bounded. And
 * whatever JSON a producer batches, the stored data is that JSON text.
 */

const KEY = 'fuzz-publisher-key-0123456789';
const RUNS = fuzzRuns(0.5);
/** Heap growth allowed over the whole run, after a GC: history (16 events a channel) and idempotency keys legitimately stored. */
const HEAP_BOUND = 96 * MiB;

let app: FastifyInstance;
let bus: MemoryBus;
const errorLines: string[] = [];

beforeAll(async () => {
  const config = loadConfig({ PUBLISHER_KEYS: KEY, HISTORY_SIZE: '16', LOG_LEVEL: 'error', MAX_BATCH_EVENTS: '50' });
  const logger = pino({ level: 'error' }, { write: (line: string) => void errorLines.push(line) });
  bus = new MemoryBus({ config, logger });
  app = buildSourceApp({ config, logger, engine: engineOf(bus) });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await bus?.close();
});

// ---- arbitraries -------------------------------------------------------------

const validChannel = fc.constantFrom('news', 'orders:eu', 'a', 'x'.repeat(128), 'A-b_c.d:e');
const oddChannel = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', '..', '.', '%2F', 'a%2Fb', 'a%2fb', '%2e%2e', 'news%00', '%E2%80%AE', '%C0%AF', '%ZZ', 'x'.repeat(129), 'x'.repeat(2000), 'ðŸ˜€', 'a b', 'a/b', 'a?b', 'a#b'),
);
const channelSegment = fc.oneof(
  validChannel,
  oddChannel.map((c) => encodeURIComponent(c)),
  fc.constantFrom('%2F', 'a%2Fb', '%2e%2e', '%ZZ', '%C0%AF', '%F0%9F%98%80', 'x'.repeat(129)),
);

/** Visible latin1 header text: what can travel in an HTTP header at all. */
const headerText = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength });

const deep = (open: string, close: string) => fc.integer({ min: 1, max: 100_000 }).map((n) => open.repeat(n) + close.repeat(n));
const jsonBody = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  deep('[', ']'),
  deep('{"a":', '}').map((s) => s.replace(/}+$/, (m) => '1' + m)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => '['.repeat(n)),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', ' ', 'null', '\ufeff{}', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", 'NaN', '1e99999', '"\\ud800"', '{"__proto__":{"x":1}}', '\n\n{"a":\n1}\n'),
);
const batchBody = fc.oneof(
  fc.record(
    {
      events: fc.array(
        fc.record(
          {
            channel: fc.oneof(validChannel, oddChannel, fc.integer(), fc.constant(null)),
            data: fc.jsonValue({ maxDepth: 3 }),
            idempotencyKey: fc.oneof(fc.string({ maxLength: 140 }), fc.constant(null), fc.integer()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 60 },
      ),
    },
    { requiredKeys: [] },
  ).map((v) => JSON.stringify(v)),
  fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify({ events: v }) ?? 'undefined'),
  fc.integer({ min: 1, max: 1000 }).map((n) => JSON.stringify({ events: Array.from({ length: n }, () => ({ channel: 'news', data: 1 })) })),
  deep('[', ']').map((d) => `{"events":[{"channel":"news","data":${d}}]}`),
  jsonBody,
);
const rawBytes = fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b));
const invalidUtf8 = fc.tuple(fc.string({ maxLength: 50 }), fc.constantFrom([0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3])).map(
  ([text, bad]) => Buffer.concat([Buffer.from(`{"a":"${text}`), Buffer.from(bad), Buffer.from('"}')]),
);

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'json', '', ';', 'application/json;;;'),
    headerText(80),
  ),
  { nil: undefined, freq: 8 },
);
const authorization = fc.oneof(
  { arbitrary: fc.constant(`Bearer ${KEY}`), weight: 6 },
  { arbitrary: fc.constantFrom(`bearer ${KEY}`, `Bearer  ${KEY} `, 'Bearer', 'Basic dXNlcjpwYXNz', `Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`), weight: 1 },
  { arbitrary: headerText(200).map((s) => `Bearer ${s}`), weight: 1 },
  { arbitrary: fc.constant(undefined), weight: 1 },
);
const idempotencyKey = fc.option(fc.oneof(headerText(200), fc.constantFrom('k', ' ', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'é')), { nil: undefined, freq: 2 });

/** Query values as a hostile client writes them: numbers, ids, names, garbage, repeats. */
const queryValue = fc.oneof(
  fc.constantFrom('0', '1', '100', '1000', '1001', '-1', '1.5', '1e3', '', '0-0', '1-0', '18446744073709551616-0', '99999999999999999999-99999999999999999999', 'orders:', 'a%20b', '%ZZ', '%00'),
  fc.integer({ min: -10, max: 2000 }).map(String),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  headerText(30).map(encodeURIComponent),
);
const query = fc
  .array(fc.tuple(fc.constantFrom('since', 'limit', 'prefix', 'after', 'x'), queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
/** The server API's paths, with hostile channel and user segments. */
const serverApiPath = fc.oneof(
  fc.tuple(channelSegment, query).map(([c, q]) => `/v1/channels/${c}/events${q}`),
  channelSegment.map((c) => `/v1/channels/${c}`),
  query.map((q) => `/v1/channels${q}`),
  channelSegment.map((c) => `/v1/channels/${c}/presence`),
  fc.oneof(channelSegment, fc.constantFrom('', '%2F', 'auth0%7Cuser')).map((u) => `/v1/users/${u}/disconnect`),
);

const request = fc.record({
  target: fc.constantFrom('one', 'batch', 'server-api'),
  serverApiPath,
  channel: channelSegment,
  body: fc.oneof({ arbitrary: jsonBody, weight: 4 }, { arbitrary: batchBody, weight: 4 }, { arbitrary: rawBytes, weight: 1 }, { arbitrary: invalidUtf8, weight: 1 }),
  contentType,
  authorization,
  idempotencyKey,
  method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'PUT', 'GET', 'DELETE', 'PATCH'),
});

// ---- the properties ----------------------------------------------------------

function assertCoded(res: LightMyRequestResponse): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
  const body = res.json() as { error?: { code: string; message: string }; channel?: string; id?: string; results?: unknown[] } & Record<string, unknown>;
  if (res.statusCode === 200) {
    // A publish (id, results), a history page (events), channel stats (subscribers), a list (channels), presence (members), a disconnect (user).
    expect(body.id ?? body.results ?? body.events ?? body.subscribers ?? body.channels ?? body.members ?? body.user, res.body.slice(0, 300)).toBeDefined();
    return;
  }
  expect(body.error, res.body.slice(0, 300)).toBeDefined();
  const status = PROTOCOL_STATUS[body.error!.code as keyof typeof PROTOCOL_STATUS];
  expect(status, `code ${body.error!.code}`).toBe(res.statusCode);
  expect(typeof body.error!.message).toBe('string');
}

describe('hostile publish requests', () => {
  test(`${RUNS} malformed requests are each answered 200 or with a coded error, with bounded memory`, async () => {
    const before = heapUsedAfterGc();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        const url = r.target === 'batch' ? '/v1/events' : r.target === 'one' ? `/v1/channels/${r.channel}/events` : r.serverApiPath;
        const res = await app.inject({ method: r.method as 'POST', url, headers, payload: r.body });
        assertCoded(res);
      }),
      { numRuns: RUNS, seed: fuzzSeed(), endOnFailure: true },
    );
    const growth = heapUsedAfterGc() - before;
    console.info(`http fuzz: ${RUNS} requests, heap growth after GC ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(HEAP_BOUND);
    expect(errorLines, 'nothing was logged as an internal error').toEqual([]);
    // Still answering, and still storing.
    const ok = await app.inject({ method: 'POST', url: '/v1/channels/after/events', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: '{"ok":true}' });
    expect(ok.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    }, timeoutFor(RUNS));
});

/** JSON text as producers write it: compact or indented, with integers beyond 2^53 and decimals spelt their own way. */
const producerJson = fc
  .tuple(
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map(String), fc.constantFrom('1.50', '-0', '1E400', '0.1000000000000000055511151231257827', '"\\u00e9"')), { maxLength: 3 }),
    fc.constantFrom(undefined, 2, '\t'),
  )
  .map(([value, raw, indent]) => {
    const text = JSON.stringify(value, null, indent);
    return raw.length === 0 ? text : `{"v":${text},"raw":[${raw.join(indent === undefined ? ',' : ',\n ')}]}`;
  });

describe('batch data is relayed as written', () => {
  test(`${RUNS >> 3} batches of producer JSON store each data as its text, on one line, digits untouched`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(producerJson, { minLength: 1, maxLength: 5 }), async (datas) => {
        const body = `{"events":[${datas.map((d) => `{"channel":"as-written","data":${d}}`).join(',')}]}`;
        const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: body });
        expect(res.statusCode, res.body).toBe(200);
        const ids = (res.json() as { results: { id: string }[] }).results.map((r) => r.id);
        const held = (await bus.history('as-written', '0-0')).events.filter((e) => ids.includes(e.id));
        const expected = datas.map((d) => (d.includes('\n') ? d.replace(/"(?:[^"\\]|\\.)*"|\s+/g, (m) => (m.startsWith('"') ? m : '')) : d));
        expect(held.map((e) => e.data.toString())).toEqual(expected);
      }),
      { numRuns: Math.max(1, RUNS >> 3), seed: fuzzSeed(), endOnFailure: true },
    );
  }, timeoutFor(RUNS >> 3));
});
