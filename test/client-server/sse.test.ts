import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TestEventStream } from '../support/sse-client.js';
import { startClientServer, type ClientFixture } from '../support/client-server.js';

let server: ClientFixture;
const streams: TestEventStream[] = [];
async function open(path: string, headers: Record<string, string> = {}): Promise<TestEventStream> {
  const stream = await TestEventStream.open(`${server.httpUrl}${path}`, headers);
  streams.push(stream);
  return stream;
}
const auth = (channels: string[] = ['*']) => ({ authorization: `Bearer ${server.token(channels)}` });

beforeEach(async () => {
  server = await startClientServer({ HEARTBEAT_SECONDS: '0.2' });
});
afterEach(async () => {
  streams.splice(0).forEach((s) => s.close());
  await server.close();
});

describe('Server-Sent Events', () => {
  test('the stream opens with a subscribed event, then each event with its id and the WebSocket event JSON', async () => {
    const stream = await open('/v1/sse/news', auth());
    expect(stream.status).toBe(200);
    expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
    const [opening] = await stream.waitFor(1);
    expect(opening).toEqual({ event: 'subscribed', data: '{"type":"subscribed","channel":"news","recovered":true}' });
    const id = await server.publish('news', { hello: 'world' });
    const [, event] = await stream.waitFor(2);
    expect(event!.id).toBe(id);
    expect(event!.event).toBeUndefined();
    expect(JSON.parse(event!.data)).toEqual({ type: 'event', channel: 'news', id, data: { hello: 'world' }, ts: expect.any(Number) });
  });

  test('Last-Event-ID resumes without gap or duplicate', async () => {
    const first = await server.publish('news', 1);
    const missed = [await server.publish('news', 2), await server.publish('news', 3)];
    const stream = await open('/v1/sse/news', { ...auth(), 'last-event-id': first });
    const live = await server.publish('news', 4);
    const messages = await stream.waitFor(4);
    expect(JSON.parse(messages[0]!.data)).toMatchObject({ recovered: true });
    expect(messages.slice(1).map((m) => m.id)).toEqual([...missed, live]);
  });

  test('?since= resumes too, and Last-Event-ID wins when both are given', async () => {
    const a = await server.publish('news', 1);
    const b = await server.publish('news', 2);
    const c = await server.publish('news', 3);
    const bySince = await open(`/v1/sse/news?since=${a}`, auth());
    expect((await bySince.waitFor(3)).slice(1).map((m) => m.id)).toEqual([b, c]);
    const both = await open(`/v1/sse/news?since=${a}`, { ...auth(), 'last-event-id': b });
    expect((await both.waitFor(2)).slice(1).map((m) => m.id)).toEqual([c]);
  });

  test('a Last-Event-ID that is no longer held answers recovered false', async () => {
    await server.publish('news', 1);
    const stream = await open('/v1/sse/news', { ...auth(), 'last-event-id': '5-0' });
    const [opening] = await stream.waitFor(1);
    expect(JSON.parse(opening!.data)).toEqual({ type: 'subscribed', channel: 'news', recovered: false });
  });

  test('comment lines keep the stream alive', async () => {
    const stream = await open('/v1/sse/news', auth());
    await stream.waitFor(1);
    const deadline = Date.now() + 3000;
    while (stream.comments === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stream.comments).toBeGreaterThan(0);
  });

  test('the browser path: ?token= works and CORS allows the origin', async () => {
    const stream = await open(`/v1/sse/news?token=${server.token(['news'])}`, { origin: 'https://app.example.com' });
    expect(stream.status).toBe(200);
    expect(stream.response.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('SSE refusals, checked in PROTOCOL.md order', () => {
  async function refusal(path: string, headers: Record<string, string>) {
    const stream = await open(path, headers);
    return { status: stream.status, body: JSON.parse(await stream.body()) as { error: { code: string } } };
  }

  test('no credentials is 401 even with a bad channel', async () => {
    expect(await refusal('/v1/sse/bad%20channel', {})).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  test('a bad channel is 400 invalid_channel even when not allowed', async () => {
    expect(await refusal('/v1/sse/bad%20channel', auth(['news']))).toMatchObject({ status: 400, body: { error: { code: 'invalid_channel' } } });
  });

  test('a Last-Event-ID of the wrong shape is 400 invalid_request', async () => {
    expect(await refusal('/v1/sse/news', { ...auth(), 'last-event-id': 'abc' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  test('a channel the token does not allow is 403 forbidden', async () => {
    expect(await refusal('/v1/sse/secret', auth(['news']))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  test('CORS answers only listed origins when ALLOWED_ORIGINS is set', async () => {
    await server.close();
    server = await startClientServer({ ALLOWED_ORIGINS: 'https://app.example.com' });
    const allowed = await open('/v1/sse/news', { ...auth(), origin: 'https://app.example.com' });
    expect(allowed.response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await open('/v1/sse/news', { ...auth(), origin: 'https://evil.example.com' });
    expect(other.response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('operations endpoints', () => {
  test('healthz, readyz and metrics answer', async () => {
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toContain('eventrelay_connections');
    expect(metrics).toContain('eventrelay_publish_to_deliver_seconds');
  });

  test('an unknown path is 404 not_found with a coded body', async () => {
    const res = await fetch(`${server.httpUrl}/nope`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });

  test('the token never appears in the logs', async () => {
    const token = server.token(['news']);
    const stream = await open(`/v1/sse/news?token=${token}`);
    await stream.waitFor(1);
    expect(server.logs.join('')).not.toContain(token);
  });
});
