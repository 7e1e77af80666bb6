import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { CloseCode } from '../../../services/protocol/close-codes.js';
import { TestSocket } from '../../support/ws-client.js';
import { startClientServer, type ClientFixture } from '../../support/client-server.js';
import { MiB, timeoutFor, WS_ERROR_CODES, fuzzRuns, fuzzSeed, heapUsedAfterGc } from '../../support/fuzz-oracle.js';

/**
 * Malformed WebSocket frames against a real listening client-server. Each
 * frame is answered by exactly one protocol message (pong, subscribed,
 * unsubscribed, or an error with a PROTOCOL.md code) or by the close code
 * that fits it (1009 too big, 1007 invalid UTF-8 in a text frame, per RFC
 * 6455); the server never crashes, a bystander keeps receiving, and the
 * heap stays bounded.
 */

const RUNS = fuzzRuns(0.5);
/** Heap growth allowed after a GC: a few hundred live subscriptions and the sockets of this test. */
const HEAP_BOUND = 64 * MiB;
const POOL = 8;

let server: ClientFixture;
let bystander: TestSocket;
const pool: (FuzzSocket | undefined)[] = [];

beforeAll(async () => {
  // The inbound rate limit is off here so that every frame is answered; floods are tested below and in test/client-server/connection-limits.test.ts.
  server = await startClientServer({ LOG_LEVEL: 'warn', MAX_CLIENT_MESSAGES_PER_SECOND: '0', MAX_SUBSCRIPTIONS_PER_CONNECTION: '200' });
  bystander = await TestSocket.open(server.wsUrl, { token: server.token(['*']) });
  expect(await bystander.subscribe('bystander')).toMatchObject({ type: 'subscribed' });
});
afterAll(async () => {
  bystander?.close();
  pool.forEach((s) => s?.ws.terminate());
  await server?.close();
});

type Outcome = { kind: 'message'; message: Record<string, unknown> } | { kind: 'close'; code: number };

/** A raw socket that hands back the next message or the close, one at a time. */
class FuzzSocket {
  private queue: Outcome[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        message = { unparseable: data.toString().slice(0, 200), isBinary };
      }
      // Events are deliveries (a fuzzed publish to a channel another frame subscribed), not answers to a frame.
      if (message.type === 'event') return;
      this.push({ kind: 'message', message });
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.push({ kind: 'close', code });
    });
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<FuzzSocket> {
    const ws = new WebSocket(url);
    const socket = new FuzzSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  async next(): Promise<Outcome> {
    const deadline = Date.now() + 5000;
    while (this.queue.length === 0) {
      if (Date.now() > deadline) throw new Error('no answer within 5 s');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
    return this.queue.shift()!;
  }

  private push(outcome: Outcome): void {
    this.queue.push(outcome);
    this.waiter?.();
  }
}

async function socketAt(i: number): Promise<FuzzSocket> {
  let socket = pool[i];
  if (!socket || socket.closed) {
    socket = await FuzzSocket.open(`${server.wsUrl}?token=${server.token(['*', 'ok*'], { sub: 'fuzzer', publish: ['ok*', 'news'], presence: ['*'] })}`);
    pool[i] = socket;
  }
  return socket;
}

// ---- arbitraries -------------------------------------------------------------

const channel = fc.oneof(
  fc.constantFrom('news', 'a', 'orders:eu', 'x'.repeat(128), 'x'.repeat(129), '', 'a b', 'a/b', '%2F', 'ðŸ˜€', '..'),
  fc.string({ maxLength: 140 }),
  fc.integer().map((n) => `c${n % 300}`),
);
const since = fc.oneof(fc.constantFrom(undefined, '0-0', '1-1', '999999999999999-0', '-1', 'abc', '1-', '', '1'.repeat(40)), fc.string({ maxLength: 30 }), fc.integer(), fc.constant(null));
const ref = fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null));
const message = fc.oneof(
  fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'pong', 'event', 'SUBSCRIBE', '', 'x'), channel, since, presence: fc.anything({ maxDepth: 0 }) }, { requiredKeys: [] }),
  // PROTOCOL.md v1.1 client publish: any data, refs of every kind, keys valid or not.
  fc.record({ type: fc.constant('publish'), channel, data: fc.anything({ maxDepth: 3 }), ref, idempotencyKey: fc.oneof(fc.string({ maxLength: 130 }), fc.integer()) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string())), channel: fc.anything({ maxDepth: 2 }) }, { requiredKeys: [] }),
  fc.anything({ maxDepth: 3 }),
);
const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
const invalidUtf8 = fc.tuple(fc.string({ maxLength: 40 }), fc.constantFrom([0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xc3])).map(([t, b]) =>
  Buffer.concat([Buffer.from(`{"type":"ping","x":"${t}`), Buffer.from(b), Buffer.from('"}')]),
);

type Frame = { data: string | Buffer; binary: boolean };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { arbitrary: message.map((m) => ({ data: JSON.stringify(m) ?? 'undefined', binary: false })), weight: 8 },
  { arbitrary: fc.string({ maxLength: 300 }).map((s) => ({ data: s, binary: false })), weight: 2 },
  { arbitrary: deep.map((d) => ({ data: d, binary: false })), weight: 1 },
  { arbitrary: fc.constantFrom('{"type":"ping"', '{}', '[]', 'null', '"ping"', '{"type":"ping"}{"type":"ping"}', '\u0000', '{"__proto__":{"type":"ping"}}').map((d) => ({ data: d, binary: false })), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 500 }).map((b) => ({ data: Buffer.from(b), binary: true })), weight: 1 },
  { arbitrary: invalidUtf8.map((b) => ({ data: b, binary: false })), weight: 1 },
  { arbitrary: fc.integer({ min: 16 * 1024 + 1, max: 1024 * 1024 }).map((n) => ({ data: Buffer.alloc(n, 0x61), binary: false })), weight: 1 },
);

/** Whether an answer fits the frame that caused it (PROTOCOL.md, Client to server / Precise rules / Close codes). */
function assertAnswer(f: Frame, outcome: Outcome, maxFrameBytes: number): void {
  const size = typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.length;
  if (outcome.kind === 'close') {
    if (size > maxFrameBytes) expect(outcome.code).toBe(CloseCode.tooBig);
    else expect(outcome.code, `closed on ${JSON.stringify(f.data.toString().slice(0, 100))}`).toBe(1007);
    return;
  }
  expect(size).toBeLessThanOrEqual(maxFrameBytes);
  const m = outcome.message;
  if (m.type === 'error') {
    expect(WS_ERROR_CODES.has(m.code as string), `error code ${String(m.code)}`).toBe(true);
    expect(typeof m.message).toBe('string');
  } else {
    expect(['pong', 'subscribed', 'unsubscribed', 'published']).toContain(m.type);
  }
}

describe('hostile WebSocket frames', () => {
  test(`${RUNS} malformed frames are each answered with one coded message or the right close code`, async () => {
    const before = heapUsedAfterGc();
    const closes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: POOL - 1 }), frame, async (i, f) => {
        const socket = await socketAt(i);
        socket.ws.send(f.data, { binary: f.binary });
        const outcome = await socket.next();
        assertAnswer(f, outcome, server.config.maxFrameBytes);
        if (outcome.kind === 'close') closes.set(outcome.code, (closes.get(outcome.code) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: fuzzSeed(), endOnFailure: true },
    );
    pool.forEach((s) => s?.ws.terminate());
    pool.length = 0;
    const growth = heapUsedAfterGc() - before;
    console.info(`ws fuzz: ${RUNS} frames, closes ${JSON.stringify(Object.fromEntries(closes))}, heap growth after GC ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(HEAP_BOUND);
    // The bystander was not disturbed: it still receives, and still answers.
    const id = await server.publish('bystander', { after: 'fuzz' });
    const [event] = await bystander.waitForEvents('bystander', 1);
    expect(event!.id).toBe(id);
    bystander.send({ type: 'ping' });
    expect(await bystander.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
    expect(bystander.closeCode).toBeUndefined();
    expect(server.logs.filter((l) => /"level":(50|60)/.test(l)), 'nothing logged as an error').toEqual([]);
    }, timeoutFor(RUNS));
});

describe('thousands of channels and subscribe floods', () => {
  test('one connection subscribing to thousands of channels gets its limit, then invalid_request for each extra one, and stays open', async () => {
    const s = await startClientServer({ LOG_LEVEL: 'warn', MAX_CLIENT_MESSAGES_PER_SECOND: '0' });
    try {
      const socket = await TestSocket.open(s.wsUrl, { token: s.token(['*']) });
      const total = 3000;
      for (let i = 0; i < total; i++) socket.send({ type: 'subscribe', channel: `ch${i}` });
      // Replies come in completion order, not request order: wait for one per subscribe.
      const deadline = Date.now() + 20_000;
      while (socket.messages.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(socket.messages).toHaveLength(total);
      const subscribed = socket.messages.filter((m) => m.type === 'subscribed').length;
      const refused = socket.messages.filter((m) => m.type === 'error' && m.code === 'invalid_request').length;
      expect(subscribed).toBe(s.config.maxSubscriptionsPerConnection);
      expect(refused).toBe(total - subscribed);
      socket.send({ type: 'ping' });
      expect(await socket.next((m) => m.type === 'pong')).toEqual({ type: 'pong' });
      socket.close();
    } finally {
      await s.close();
    }
  });

  test('with the default limits, a flood of 20,000 subscribes is cut with 4029 and a bystander is served', async () => {
    const s = await startClientServer({ LOG_LEVEL: 'warn' });
    try {
      const quiet = await TestSocket.open(s.wsUrl, { token: s.token(['*']) });
      await quiet.subscribe('quiet');
      const flooder = await TestSocket.open(s.wsUrl, { token: s.token(['*']) });
      for (let i = 0; i < 20_000 && flooder.closeCode === undefined; i++) {
        flooder.send({ type: 'subscribe', channel: `flood${i}` });
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
      expect(await flooder.waitClosed()).toBe(CloseCode.rateLimited);
      const id = await s.publish('quiet', 1);
      expect((await quiet.waitForEvents('quiet', 1))[0]!.id).toBe(id);
      quiet.close();
    } finally {
      await s.close();
    }
  });
});
