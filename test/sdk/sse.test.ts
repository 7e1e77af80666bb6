import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { connectSse, type EventRelayStream, type PresenceChange, type RelayEvent, type StateChange, type SubscribedInfo } from '../../sdk/src/node.js';
import { SseParser } from '../../sdk/src/sse-parser.js';

// The server does not implement v1.1 yet: this HTTP server speaks the exact PROTOCOL.md v1.1 SSE messages.
type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

interface SseServer {
  url: string;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

const servers: Server[] = [];
const streams: EventRelayStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r).closeAllConnections())));
});

async function sseServer(handler: Handler): Promise<SseServer> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => handler(req, res, requests.push(req) - 1));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((r) => server.close(() => r())) };
}

function streamHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
}

const subscribed = (channel: string, extra: object = {}) => `event: subscribed\ndata: ${JSON.stringify({ type: 'subscribed', channel, recovered: true, ...extra })}\n\n`;
const event = (cursor: string, channel: string, id: string, data: unknown) => `id: ${cursor}\ndata: ${JSON.stringify({ type: 'event', channel, id, data, ts: 1 })}\n\n`;
const fast = { backoff: { baseMs: 1, maxMs: 1, random: () => 0 } };

function open(url: string, options: Parameters<typeof connectSse>[1]): EventRelayStream {
  const stream = connectSse(url, { ...fast, ...options });
  streams.push(stream);
  return stream;
}

function until<T>(stream: EventRelayStream, predicate: (change: StateChange) => T | undefined): Promise<T> {
  return new Promise((resolve) => stream.on('state', (s) => { const v = predicate(s); if (v !== undefined) resolve(v); }));
}

describe('the event-stream parser', () => {
  test('dispatches on blank lines whatever the line endings, skipping comments, across chunk boundaries', () => {
    const got: [string, string, string][] = [];
    const parser = new SseParser((type, data, id) => got.push([type, data, id]));
    for (const chunk of [': ping\n\nid: c1\r', '\ndata: {"a":1}\r\n\r', '\nevent: join\rdata: x\rdata: y\r\r', 'data:no-space\n', '\n']) parser.push(chunk);
    expect(got).toEqual([
      ['message', '{"a":1}', 'c1'],
      ['join', 'x\ny', 'c1'],
      ['message', 'no-space', 'c1'],
    ]);
  });
});

describe('several channels on one stream', () => {
  test('asks for /v1/sse?channels=a,b with a bearer token, and delivers the subscribed replies and events of both', async () => {
    const server = await sseServer((_req, res) => {
      streamHead(res);
      res.write(subscribed('a') + subscribed('b') + event('cur-1', 'a', '7-0', { n: 1 }) + ': ping\n\n' + event('cur-2', 'b', '3-0', { n: 2 }));
    });
    const stream = open(server.url, { channels: ['a', 'b'], token: 'tok' });
    const infos: SubscribedInfo[] = [];
    const events: RelayEvent[] = [];
    stream.on('subscribed', (i) => infos.push(i));
    await new Promise<void>((resolve) => stream.on('event', (e) => events.push(e) === 2 && resolve()));
    expect(server.requests[0]?.url).toBe('/v1/sse?channels=a%2Cb');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer tok');
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream');
    expect(infos).toEqual([
      { channel: 'a', recovered: true, resumed: false },
      { channel: 'b', recovered: true, resumed: false },
    ]);
    expect(events).toEqual([
      { channel: 'a', id: '7-0', data: { n: 1 }, ts: 1 },
      { channel: 'b', id: '3-0', data: { n: 2 }, ts: 1 },
    ]);
    expect(stream.cursor).toBe('cur-2');
  });

  test('a stream that ends is reopened with the last cursor as Last-Event-ID, and the resume is reported', async () => {
    const server = await sseServer((_req, res, n) => {
      streamHead(res);
      if (n === 0) res.end(subscribed('a') + subscribed('b') + event('cur-1', 'a', '1-0', 1));
      else res.write(subscribed('a', { recovered: false }) + subscribed('b') + event('cur-2', 'b', '1-0', 2));
    });
    const stream = open(server.url, { channels: ['a', 'b'], lastEventId: 'saved' });
    const infos: SubscribedInfo[] = [];
    stream.on('subscribed', (i) => infos.push(i));
    await new Promise<void>((resolve) => stream.on('event', (e) => e.data === 2 && resolve()));
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual(['saved', 'cur-1']);
    expect(infos.slice(2)).toEqual([
      { channel: 'a', recovered: false, resumed: true, since: 'cur-1' },
      { channel: 'b', recovered: true, resumed: true, since: 'cur-1' },
    ]);
  });

  test('with presence=true the members, joins and leaves of each channel are tracked', async () => {
    const server = await sseServer((_req, res) => {
      streamHead(res);
      res.write(
        subscribed('room:1', { presence: { count: 1, members: [{ user: 'u1', info: {} }] } }) +
          `event: join\ndata: ${JSON.stringify({ type: 'join', channel: 'room:1', user: 'u2', info: { name: 'Grace' } })}\n\n` +
          `event: leave\ndata: ${JSON.stringify({ type: 'leave', channel: 'room:1', user: 'u1' })}\n\n`,
      );
    });
    const stream = open(server.url, { channels: ['room:1', 'room:2'], presence: true });
    const changes: PresenceChange[] = [];
    await new Promise<void>((resolve) => stream.on('presence', (c) => changes.push(c) === 3 && resolve()));
    expect(server.requests[0]?.url).toBe('/v1/sse?channels=room%3A1%2Croom%3A2&presence=true');
    expect(changes.map((c) => c.type)).toEqual(['sync', 'join', 'leave']);
    expect(stream.presence('room:1')).toEqual({ count: 1, members: [{ user: 'u2', info: { name: 'Grace' } }], truncated: false });
  });

  test('event: disconnected (4003) ends the stream for good', async () => {
    const server = await sseServer((_req, res) => {
      streamHead(res);
      res.write(subscribed('a') + subscribed('b') + `event: disconnected\ndata: {"type":"disconnected","code":4003}\n\n`);
    });
    const stream = open(server.url, { channels: ['a', 'b'] });
    const closed = await until(stream, (s) => (s.state === 'closed' ? s : undefined));
    expect(closed).toMatchObject({ closeCode: 4003, error: { code: 'disconnected' } });
    expect(server.requests).toHaveLength(1);
  });
});

describe('refusals', () => {
  const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { code, message } }));
  };

  test('a 401 stops a stream with a fixed token, with the server code and message', async () => {
    const server = await sseServer(refuse(401, 'unauthorized', 'The subscriber token was rejected: token expired.'));
    const stream = open(server.url, { channels: ['a', 'b'], token: 'old' });
    const closed = await until(stream, (s) => (s.state === 'closed' ? s : undefined));
    expect(closed.error).toEqual({ code: 'unauthorized', message: 'The subscriber token was rejected: token expired.', status: 401 });
    expect(server.requests).toHaveLength(1);
  });

  test('a 401 with getToken fetches one fresh token; if that is refused too, the stream stops', async () => {
    const server = await sseServer(refuse(401, 'unauthorized', 'The subscriber token was rejected: bad token signature.'));
    let issued = 0;
    const stream = open(server.url, { channels: ['a'], token: 'old', getToken: () => `fresh-${++issued}` });
    const closed = await until(stream, (s) => (s.state === 'closed' ? s : undefined));
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer old', 'Bearer fresh-1']);
    expect(server.requests[0]?.url).toBe('/v1/sse/a');
    expect(closed.error?.message).toBe('The subscriber token was rejected: bad token signature.');
  });

  test('a 403 stops with forbidden; a 503 is retried', async () => {
    const forbidden = await sseServer(refuse(403, 'forbidden', 'Your token does not allow this channel.'));
    const refused = open(forbidden.url, { channels: ['a', 'b'] });
    expect((await until(refused, (s) => (s.state === 'closed' ? s : undefined))).error?.code).toBe('forbidden');

    const draining = await sseServer((req, res, n) => (n === 0 ? refuse(503, 'unavailable', 'Draining for shutdown.')(req, res) : (streamHead(res), res.write(subscribed('a')))));
    const retried = open(draining.url, { channels: ['a'] });
    const states: StateChange[] = [];
    retried.on('state', (s) => states.push(s));
    await new Promise((resolve) => retried.on('subscribed', resolve));
    expect(states.map((s) => s.state)).toEqual(['reconnecting', 'open']);
    expect(states[0]).toMatchObject({ status: 503, reason: 'Draining for shutdown.' });
  });
});
