import { describe, expect, test } from 'vitest';
import { AUTH, publish, useSource } from '../support/source-app.js';

describe('the server API while draining', () => {
  test.each(['/v1/channels/news/events', '/v1/channels/news/events?since=1-0', '/v1/channels/news', '/v1/channels', '/v1/channels/news/presence'])(
    'GET %s keeps answering 200: reads change nothing',
    async (url) => {
      const { app, lifecycle } = useSource();
      await publish(app, 'news', '1');
      lifecycle.startDraining();
      const response = await app.inject({ method: 'GET', url, headers: AUTH });
      expect(response.statusCode).toBe(200);
    },
  );

  test('a read in flight holds app.close() until it is answered, so the engine is never closed under it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const reached = new Promise<void>((resolve) => (entered = resolve));
    const { app, lifecycle } = useSource({
      wrapBus: (bus) =>
        Object.assign(Object.create(bus) as typeof bus, {
          latest: async (channel: string, limit: number) => {
            entered();
            await gate;
            return bus.latest(channel, limit);
          },
        }),
    });
    const reading = app.inject({ method: 'GET', url: '/v1/channels/news/events', headers: AUTH });
    await reached;
    lifecycle.startDraining();
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    expect((await reading).statusCode).toBe(200);
    await closing;
    expect(closed).toBe(true);
  });
});
