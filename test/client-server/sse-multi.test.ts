import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BUS_DEPLOYMENTS, DEPLOYMENTS, startSingle } from '../support/client-deployment.js';
import type { ClientFixture, TokenClaims } from '../support/client-server.js';
import { TestEventStream, type SseMessage } from '../support/sse-client.js';

/** PROTOCOL.md v1.1, Several channels on one SSE stream: `GET /v1/sse?channels=a,b,c`, on every kind of BUS_DEPLOYMENTS. */

describe.each(BUS_DEPLOYMENTS)('on $name', (kind) => {
  let server: ClientFixture;
  const streams: TestEventStream[] = [];
  beforeEach(async () => {
    server = await startSingle(kind, { MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' });
  });
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await server.close();
  });

  async function open(query: string, headers: Record<string, string> = {}, claims: TokenClaims & { channels?: string[] } = {}): Promise<TestEventStream> {
    const { channels = ['*'], ...extra } = claims;
    const stream = await TestEventStream.open(`${server.httpUrl}/v1/sse?${query}`, { authorization: `Bearer ${server.token(channels, extra)}`, ...headers });
    streams.push(stream);
    return stream;
  }
  const events = (messages: SseMessage[]) => messages.filter((m) => m.event === undefined).map((m) => JSON.parse(m.data) as { channel: string; id: string; data: unknown });

  describe('a multi-channel stream', () => {
    test('opens with one subscribed event per channel, in the listed order, then events of all channels with their own ids in data', async () => {
      const stream = await open('channels=b,a');
      expect(stream.status).toBe(200);
      const opening = await stream.waitFor(2);
      expect(opening.map((m) => [m.event, JSON.parse(m.data)])).toEqual([
        ['subscribed', { type: 'subscribed', channel: 'b', recovered: true }],
        ['subscribed', { type: 'subscribed', channel: 'a', recovered: true }],
      ]);
      // The last one carries the starting cursor, so that a reconnect before any event resumes from there.
      expect(opening[0]!.id).toBeUndefined();
      expect(opening[1]!.id).toMatch(/^1[0-9A-Za-z]{4}\./);
      const ida = await server.publish('a', { n: 1 });
      const idb = await server.publish('b', { n: 2 });
      const messages = await stream.waitFor(4);
      expect(events(messages)).toEqual([
        { type: 'event', channel: 'a', id: ida, data: { n: 1 }, ts: expect.any(Number) },
        { type: 'event', channel: 'b', id: idb, data: { n: 2 }, ts: expect.any(Number) },
      ]);
      // Each id: is a cursor for the whole stream, not the event's own id.
      expect(messages[2]!.id).not.toBe(ida);
      expect(messages[3]!.id).not.toBe(messages[2]!.id);
    });

    test('a subscribe without a cursor replays no history', async () => {
      await server.publish('a', 'old');
      const stream = await open('channels=a,b');
      await stream.waitFor(2);
      const live = await server.publish('a', 'new');
      expect(events(await stream.waitFor(3)).map((e) => e.id)).toEqual([live]);
    });

    // Where presence is built (DEPLOYMENTS); shown as skipped elsewhere.
    test.runIf(DEPLOYMENTS.includes(kind))('?presence=true applies to every channel', async () => {
      const stream = await open('channels=room:1,room:2&presence=true', {}, { sub: 'alice', presence: ['room:*'] });
      const opening = await stream.waitFor(2);
      expect(opening.map((m) => JSON.parse(m.data).presence)).toEqual([
        { count: 1, members: [{ user: 'alice', info: {} }] },
        { count: 1, members: [{ user: 'alice', info: {} }] },
      ]);
    });
  });

  describe('resuming a multi-channel stream with its cursor', () => {
    /** Publishes round-robin over `channels`; returns the ids per channel. */
    async function publishRounds(channels: string[], rounds: number, label: string): Promise<Map<string, string[]>> {
      const ids = new Map(channels.map((c) => [c, [] as string[]]));
      for (let r = 0; r < rounds; r++) for (const c of channels) ids.get(c)!.push(await server.publish(c, `${label}${r}`));
      return ids;
    }

    test('Last-Event-ID resumes every channel without gap or duplicate, recovered per channel', async () => {
      await publishRounds(['a', 'b', 'c'], 1, 'before');
      const first = await open('channels=a,b,c');
      await first.waitFor(3);
      // b receives events, a and c none: their positions are the baselines.
      const seenB = (await publishRounds(['b'], 3, 'seen')).get('b')!;
      const seen = await first.waitFor(6);
      expect(events(seen).map((e) => e.id)).toEqual(seenB);
      const cursor = seen[seen.length - 1]!.id!;
      first.close();
      const missed = await publishRounds(['a', 'b', 'c'], 3, 'missed');
      const resumed = await open('channels=a,b,c', { 'last-event-id': cursor });
      const opening = (await resumed.waitFor(3)).slice(0, 3);
      expect(opening.map((m) => JSON.parse(m.data))).toEqual(['a', 'b', 'c'].map((channel) => ({ type: 'subscribed', channel, recovered: true })));
      const live = await publishRounds(['c', 'a'], 1, 'live');
      const got = events(await resumed.waitFor(3 + 9 + 2));
      for (const c of ['a', 'b', 'c']) {
        expect(got.filter((e) => e.channel === c).map((e) => e.id)).toEqual([...missed.get(c)!, ...(live.get(c) ?? [])]);
      }
    });

    test('the cursor of the last subscribed event resumes too: what was published before any event arrived is delivered', async () => {
      await server.publish('a', 'history');
      const first = await open('channels=a,b');
      const opening = await first.waitFor(2);
      first.close();
      const missedB = await server.publish('b', 1);
      const missedA = await server.publish('a', 2);
      const resumed = await open(`channels=a,b&since=${opening[1]!.id!}`);
      // Order holds per channel; across channels, history is sent channel by channel.
      const got = events(await resumed.waitFor(4));
      expect(got.map((e) => e.id).sort()).toEqual([missedA, missedB].sort());
      expect(got.map((e) => e.data)).not.toContain('history');
    });

    test('a channel that held nothing when the stream began resumes from the start of what is held, recovered false (nothing proves no event was lost)', async () => {
      const first = await open('channels=empty');
      const [opening] = await first.waitFor(1);
      first.close();
      const missed = [await server.publish('empty', 1), await server.publish('empty', 2)];
      const resumed = await open('channels=empty', { 'last-event-id': opening!.id! });
      const messages = await resumed.waitFor(3);
      expect(JSON.parse(messages[0]!.data)).toEqual({ type: 'subscribed', channel: 'empty', recovered: false });
      expect(events(messages).map((e) => e.id)).toEqual(missed);
    });

    test('a concurrent publisher loses nothing across a stream that is cut and resumed, many times', async () => {
      const channels = ['x', 'y', 'z'];
      const published = new Map(channels.map((c) => [c, [] as string[]]));
      let running = true;
      const publisher = (async () => {
        for (let i = 0; running; i++) {
          const c = channels[i % 3]!;
          published.get(c)!.push(await server.publish(c, i));
          if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const received: SseMessage[] = [];
      let cursor: string | undefined;
      for (let round = 0; round < 5; round++) {
        const stream = await open('channels=x,y,z', cursor === undefined ? {} : { 'last-event-id': cursor });
        await stream.waitFor(3 + 10);
        stream.close();
        const messages = stream.messages.slice(3);
        received.push(...messages);
        cursor = (messages.length > 0 ? messages[messages.length - 1]! : stream.messages[2]!).id!;
      }
      running = false;
      await publisher;
      const got = events(received);
      for (const c of channels) {
        const ids = got.filter((e) => e.channel === c).map((e) => e.id);
        const all = published.get(c)!;
        // From the first one received on, every id of the channel, once and in order.
        expect(ids).toEqual(all.slice(all.indexOf(ids[0]!), all.indexOf(ids[0]!) + ids.length));
      }
    });
  });

  describe('multi-channel refusals, checked in PROTOCOL.md order over all channels', () => {
    async function refusal(query: string, headers: Record<string, string> | undefined, claims: TokenClaims & { channels?: string[] } = {}) {
      const stream =
        headers === undefined ? await TestEventStream.open(`${server.httpUrl}/v1/sse?${query}`) : await open(query, headers, claims);
      streams.push(stream);
      return { status: stream.status, code: (JSON.parse(await stream.body()) as { error: { code: string } }).error.code };
    }
    const noAuth = undefined;

    test('no credentials is 401, whatever else is wrong', async () => {
      expect(await refusal('channels=ok,bad%20name&since=x', noAuth)).toEqual({ status: 401, code: 'unauthorized' });
    });

    test('any bad name is 400 invalid_channel, before a bad cursor and before permission', async () => {
      expect(await refusal('channels=secret,ok,bad%20name', { 'last-event-id': 'nope' }, { channels: ['ok'] })).toEqual({ status: 400, code: 'invalid_channel' });
    });

    test('a bad cursor is 400 invalid_request, before permission', async () => {
      expect(await refusal('channels=secret,ok', { 'last-event-id': 'nope' }, { channels: ['ok'] })).toEqual({ status: 400, code: 'invalid_request' });
    });

    test('more channels than MAX_SUBSCRIPTIONS_PER_CONNECTION is 400 invalid_request, before permission', async () => {
      expect(await refusal('channels=a,b,c,secret', {}, { channels: ['a', 'b', 'c'] })).toEqual({ status: 400, code: 'invalid_request' });
      expect((await open('channels=a,b,c')).status).toBe(200);
    });

    test('any channel not allowed is 403 forbidden, and nothing is subscribed', async () => {
      expect(await refusal('channels=ok,secret', {}, { channels: ['ok'] })).toEqual({ status: 403, code: 'forbidden' });
      expect(server.app.clientRelay.hub.channelCount).toBe(0);
    });

    test('presence on every channel: one without a presence pattern is 403', async () => {
      expect(await refusal('channels=room:1,lobby&presence=true', {}, { sub: 'alice', presence: ['room:*'] })).toEqual({ status: 403, code: 'forbidden' });
    });

    test.each([
      ['no channels', 'presence=true'],
      ['an empty list', 'channels='],
      ['a channel listed twice', 'channels=a,a'],
      ['presence neither true nor false', 'channels=a&presence=yes'],
    ])('%s is 400', async (_name, query) => {
      expect((await refusal(query, {})).status).toBe(400);
    });

    test('a cursor of another channel set is 400 invalid_request', async () => {
      const first = await open('channels=a,b');
      const opening = await first.waitFor(2);
      expect(await refusal('channels=a,c', { 'last-event-id': opening[1]!.id! })).toEqual({ status: 400, code: 'invalid_request' });
      // The same set listed in another order is the same stream.
      expect((await open('channels=b,a', { 'last-event-id': opening[1]!.id! })).status).toBe(200);
    });
  });
});
