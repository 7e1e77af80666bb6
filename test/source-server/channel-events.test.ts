import type { FastifyInstance } from 'fastify';
import { describe, expect, test } from 'vitest';
import type { Bus } from '../../services/engine/bus.js';
import type { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { RelayError } from '../../services/protocol/errors.js';
import { encodeEventMessage } from '../../services/protocol/event-message.js';
import { AUTH, errorCode, publish, publishBatch, useSource } from '../support/source-app.js';

interface Page {
  events: { type: string; channel: string; id: string; data: unknown; ts: number; publisher?: string }[];
  recovered: boolean;
  next: string | null;
}

const get = (app: FastifyInstance, url: string) => app.inject({ method: 'GET', url, headers: AUTH });

/** Publishes `count` events (data 0..count-1) in batches of 1,000 and returns their ids in order. */
async function fill(app: FastifyInstance, channel: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 1000) {
    const events = Array.from({ length: Math.min(1000, count - from) }, (_, i) => ({ channel, data: from + i }));
    const response = await publishBatch(app, { events });
    expect(response.statusCode).toBe(200);
    ids.push(...(response.json() as { results: { id: string }[] }).results.map((r) => r.id));
  }
  return ids;
}

/** Follows `next` from `since` to the end; returns every id seen and the number of pages. */
async function readAll(app: FastifyInstance, channel: string, since: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = since;
  let pages = 0;
  while (cursor !== null) {
    const response = await get(app, `/v1/channels/${channel}/events?since=${cursor}&limit=${limit}`);
    expect(response.statusCode).toBe(200);
    const page = response.json() as Page;
    ids.push(...page.events.map((e) => e.id));
    if (page.next !== null) expect(page.next).toBe(page.events[page.events.length - 1]!.id);
    cursor = page.next;
    pages++;
  }
  return { ids, pages };
}

describe('GET /v1/channels/{channel}/events', () => {
  test('without since: the latest limit events in id order, recovered:true, next:null', async () => {
    const { app } = useSource();
    const ids = await fill(app, 'news', 10);
    const page = (await get(app, '/v1/channels/news/events?limit=3')).json() as Page;
    expect(page.events.map((e) => e.id)).toEqual(ids.slice(7));
    expect(page.events.map((e) => e.data)).toEqual([7, 8, 9]);
    expect(page.recovered).toBe(true);
    expect(page.next).toBeNull();
  });

  test('without limit a page holds 100 events', async () => {
    const { app } = useSource();
    const ids = await fill(app, 'news', 150);
    expect(((await get(app, '/v1/channels/news/events')).json() as Page).events.map((e) => e.id)).toEqual(ids.slice(50));
    const after = (await get(app, `/v1/channels/news/events?since=${ids[0]}`)).json() as Page;
    expect(after.events.map((e) => e.id)).toEqual(ids.slice(1, 101));
    expect(after.next).toBe(ids[100]);
  });

  test('a channel without history answers an empty page, not 404', async () => {
    const { app } = useSource();
    const response = await get(app, '/v1/channels/never-used/events');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ events: [], recovered: true, next: null });
  });

  test('each event is the WebSocket event message, byte for byte, publisher included for client publishes', async () => {
    const { app, bus } = useSource({ now: () => 1732450000000 });
    await publish(app, 'room', '{"n":12345678901234567890,"price":10.50}');
    await bus.publish([{ channel: 'room', data: '"hi"', ts: 1732450000001, publisher: 'user "one"' }]);
    const response = await get(app, '/v1/channels/room/events');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const frames = (await bus.latest('room', 2)).map((e) => encodeEventMessage(e).toString());
    expect(response.body).toBe(`{"events":[${frames.join(',')}],"recovered":true,"next":null}`);
    expect(response.body).toContain('"data":{"n":12345678901234567890,"price":10.50}');
    expect((response.json() as Page).events[1]).toMatchObject({ type: 'event', publisher: 'user "one"', data: 'hi' });
  });

  test('next chains through a 10,000-event channel without gap or duplicate, ending with null on an exact last page', async () => {
    const { app } = useSource({ env: { HISTORY_SIZE: '20000' } });
    const ids = await fill(app, 'big', 10_000);
    const first = (await get(app, `/v1/channels/big/events?since=${ids[0]}&limit=1000`)).json() as Page;
    expect(first.recovered).toBe(true);

    const exact = await readAll(app, 'big', ids[0]!, 1000);
    // 9,999 events after the first: ten pages, the last one holding 999 and next null.
    expect(exact.ids).toEqual(ids.slice(1));
    expect(exact.pages).toBe(10);

    const uneven = await readAll(app, 'big', ids[0]!, 777);
    expect(uneven.ids).toEqual(ids.slice(1));
    expect(uneven.pages).toBe(Math.ceil(9999 / 777));

    // A page that ends exactly at the last event has no later events: next is null.
    const last = (await get(app, `/v1/channels/big/events?since=${ids[8999]}&limit=1000`)).json() as Page;
    expect(last.events).toHaveLength(1000);
    expect(last.next).toBeNull();
  });

  describe('recovered follows the subscribe rule', () => {
    test('true when since is still held, with exactly the later events', async () => {
      const { app } = useSource();
      const ids = await fill(app, 'news', 5);
      const page = (await get(app, `/v1/channels/news/events?since=${ids[1]}`)).json() as Page;
      expect(page).toMatchObject({ recovered: true, next: null });
      expect(page.events.map((e) => e.id)).toEqual(ids.slice(2));
    });

    test('true and empty when since is the last event', async () => {
      const { app } = useSource();
      const ids = await fill(app, 'news', 3);
      expect((await get(app, `/v1/channels/news/events?since=${ids[2]}`)).json()).toEqual({ events: [], recovered: true, next: null });
    });

    test('false when since was trimmed, and the held events after it still come', async () => {
      const { app } = useSource({ env: { HISTORY_SIZE: '5' } });
      const ids = await fill(app, 'news', 12);
      const page = (await get(app, `/v1/channels/news/events?since=${ids[0]}&limit=3`)).json() as Page;
      expect(page.recovered).toBe(false);
      expect(page.events.map((e) => e.id)).toEqual(ids.slice(7, 10));
      expect(page.next).toBe(ids[9]);
      // The next page's since is held again.
      expect(((await get(app, `/v1/channels/news/events?since=${page.next}`)).json() as Page).recovered).toBe(true);
    });

    test('false when since never existed', async () => {
      const { app } = useSource();
      const ids = await fill(app, 'news', 2);
      const page = (await get(app, '/v1/channels/news/events?since=1-0')).json() as Page;
      expect(page.recovered).toBe(false);
      expect(page.events.map((e) => e.id)).toEqual(ids);
    });
  });

  describe('bad requests', () => {
    test.each(['0', '1001', '-1', '1.5', 'ten', '', '1e2', '+5', '99999'])('limit=%s is 400 invalid_request', async (limit) => {
      const { app } = useSource();
      const response = await get(app, `/v1/channels/news/events?limit=${limit}`);
      expect(response.statusCode).toBe(400);
      expect(errorCode(response)).toBe('invalid_request');
    });

    test.each(['1', '1000'])('limit=%s is accepted', async (limit) => {
      const { app } = useSource();
      expect((await get(app, `/v1/channels/news/events?limit=${limit}`)).statusCode).toBe(200);
    });

    test('limit given twice is 400 invalid_request', async () => {
      const { app } = useSource();
      expect(errorCode(await get(app, '/v1/channels/news/events?limit=1&limit=2'))).toBe('invalid_request');
    });

    test.each(['abc', '', '1-2-3', '1732450000000', '-1-0', '1-'])('since=%s, not an id of this server, is 400 invalid_request', async (since) => {
      const { app } = useSource();
      const response = await get(app, `/v1/channels/news/events?since=${encodeURIComponent(since)}`);
      expect(response.statusCode).toBe(400);
      expect(errorCode(response)).toBe('invalid_request');
    });

    test('a bad channel name is 400 invalid_channel', async () => {
      const { app } = useSource();
      const response = await get(app, '/v1/channels/no%20spaces/events');
      expect(response.statusCode).toBe(400);
      expect(errorCode(response)).toBe('invalid_channel');
    });

    test('the control channel of the client-servers cannot be read: #control is not a channel name', async () => {
      const { app } = useSource();
      expect(errorCode(await get(app, '/v1/channels/%23control/events'))).toBe('invalid_channel');
    });

    test('history that cannot be read is 503 unavailable with Retry-After', async () => {
      const unreadable = (bus: MemoryBus): Bus =>
        Object.assign(Object.create(bus) as MemoryBus, {
          history: () => Promise.reject(new RelayError('unavailable', 'Redis is unreachable.')),
          latest: () => Promise.reject(new RelayError('unavailable', 'Redis is unreachable.')),
        });
      const { app } = useSource({ wrapBus: unreadable });
      for (const url of ['/v1/channels/news/events', '/v1/channels/news/events?since=1-0']) {
        const response = await get(app, url);
        expect(response.statusCode).toBe(503);
        expect(errorCode(response)).toBe('unavailable');
        expect(response.headers['retry-after']).toBeDefined();
      }
    });
  });
});
