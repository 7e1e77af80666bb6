import type { FastifyInstance } from 'fastify';
import type { BusEvent } from '../../../engine/bus.js';
import { assertChannel } from '../../../protocol/channel.js';
import { encodeEventMessage } from '../../../protocol/event-message.js';
import { pageLimit, sinceParam } from './query.js';
import type { ServerApiDeps } from './server-api-deps.js';

const OPEN = Buffer.from('{"events":[');
const COMMA = Buffer.from(',');

/**
 * PROTOCOL.md v1.1 `GET /v1/channels/{channel}/events?since=&limit=`: a page
 * of history. With `since`, the held events after it (recovered as for a
 * subscribe; `next` the `since` of the following page while later events
 * exist); without, the newest `limit`, recovered:true, next:null.
 */
export function registerChannelEvents(app: FastifyInstance, { engine, lifecycle, onRequest }: ServerApiDeps): void {
  app.get<{ Params: { channel: string } }>('/v1/channels/:channel/events', { onRequest }, async (request, reply) => {
    const channel = assertChannel(request.params.channel);
    const limit = pageLimit(request);
    const since = sinceParam(request, engine.bus.ids);
    let page: Buffer;
    if (since === undefined) {
      page = eventsPage(await lifecycle.track(() => engine.bus.latest(channel, limit)), true, null);
    } else {
      const { events, recovered, more } = await lifecycle.track(() => engine.bus.history(channel, since, limit));
      page = eventsPage(events, recovered, more ? events[events.length - 1]!.id : null);
    }
    return reply.type('application/json; charset=utf-8').send(page);
  });
}

/**
 * The response body, built from each event's WebSocket `event` message bytes
 * (the one frame codec, so the two can never differ) and concatenated:
 * serialized once, never parsed back.
 */
export function eventsPage(events: readonly BusEvent[], recovered: boolean, next: string | null): Buffer {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < events.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(encodeEventMessage(events[i]!));
  }
  parts.push(Buffer.from(`],"recovered":${recovered},"next":${next === null ? 'null' : JSON.stringify(next)}}`));
  return Buffer.concat(parts);
}
