import { afterEach, beforeEach, expect, test } from 'vitest';
import { DRAIN_RETRY_MAX_MS, DRAIN_RETRY_MIN_MS, drainRetryMs } from '../../services/client-server/transports/sse/drain-retry.js';
import { CloseCode } from '../../services/protocol/close-codes.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';
import { TestEventStream } from '../support/sse-client.js';

let server: ClientFixture;
const streams: TestEventStream[] = [];
beforeEach(async () => {
  server = await startClientServer();
});
afterEach(async () => {
  streams.splice(0).forEach((s) => s.close());
  await server.close();
});

async function openStream(path: string): Promise<TestEventStream> {
  const stream = await TestEventStream.open(`${server.httpUrl}${path}`, { authorization: `Bearer ${server.token(['*'], { sub: 'drained' })}` });
  streams.push(stream);
  expect(stream.status).toBe(200);
  await stream.waitFor(1);
  return stream;
}

/** The stream's blocks as sent (events, comments, hints), after it ended. */
async function blocksUntilEnd(stream: TestEventStream): Promise<string[]> {
  await expect.poll(() => stream.ended, { timeout: 10_000 }).toBe(true);
  return stream.raw.split('\n\n').filter((b) => b !== '');
}

function retryOf(block: string | undefined): number {
  const match = /^retry: (\d+)$/.exec(block ?? '');
  if (!match) throw new Error(`not a retry hint: ${JSON.stringify(block)}`);
  return Number(match[1]);
}

test('a stream closed by the drain gets a retry: hint of a few seconds as its last block, then ends', async () => {
  const stream = await openStream('/v1/sse/news');
  const id = await server.publish('news', 1);
  await stream.waitFor(2);
  await server.app.clientRelay.drain(1000);
  const blocks = await blocksUntilEnd(stream);
  expect(blocks.at(-2)).toBe(`id: ${id}\ndata: ${stream.messages[1]!.data}`);
  const retry = retryOf(blocks.at(-1));
  expect(retry).toBeGreaterThanOrEqual(DRAIN_RETRY_MIN_MS);
  expect(retry).toBeLessThanOrEqual(DRAIN_RETRY_MAX_MS);
  // The hint is not an event: an EventSource only takes its reconnection time from it.
  expect(stream.messages.at(-1)).toEqual({ data: '', retry: String(retry) });
  const closed = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'connection closed');
  expect(closed).toEqual([expect.objectContaining({ transport: 'sse', by: 'server', code: CloseCode.goingAway, subject: 'drained' })]);
});

test('streams drained in the same instant are told different times, so their browsers come back spread out', async () => {
  const all = await Promise.all(Array.from({ length: 8 }, () => openStream('/v1/sse?channels=a,b')));
  await server.app.clientRelay.drain(0);
  const retries = await Promise.all(all.map(async (s) => retryOf((await blocksUntilEnd(s)).at(-1))));
  for (const r of retries) expect(r).toBeGreaterThanOrEqual(DRAIN_RETRY_MIN_MS);
  for (const r of retries) expect(r).toBeLessThanOrEqual(DRAIN_RETRY_MAX_MS);
  expect(new Set(retries).size).toBeGreaterThan(1);
});

test('an operator disconnect ends a stream without a retry hint: that client is not meant to come back', async () => {
  const stream = await openStream('/v1/sse/news');
  await server.engine.control.send({ type: 'disconnect', user: 'drained' });
  const blocks = await blocksUntilEnd(stream);
  expect(blocks.at(-1)).toMatch(/^event: disconnected\n/);
  expect(stream.raw).not.toMatch(/^retry:/m);
});

test('the hint is uniform over its bounds', () => {
  expect(drainRetryMs(() => 0)).toBe(DRAIN_RETRY_MIN_MS);
  expect(drainRetryMs(() => 0.5)).toBe((DRAIN_RETRY_MIN_MS + DRAIN_RETRY_MAX_MS) / 2);
  expect(drainRetryMs(() => 0.999999)).toBe(DRAIN_RETRY_MAX_MS);
});
