import type { FastifyInstance } from 'fastify';
import { assertChannel } from '../../../protocol/channel.js';
import { afterParam, pageLimit, prefixParam } from './query.js';
import type { ServerApiDeps } from './server-api-deps.js';

/**
 * Members listed by `GET /v1/channels/{channel}/presence`, as in the
 * `subscribed` reply: a page a browser renders at once; `count` is always
 * the full number and `"truncated":true` says when members were left out.
 */
export const MAX_PRESENCE_MEMBERS = 1000;

/**
 * PROTOCOL.md v1.1 channel reads. A channel exists as a name only: one that
 * never had an event or a subscriber is answered like any other (zero, null),
 * not 404.
 */
export function registerChannelReads(app: FastifyInstance, { engine, lifecycle, onRequest }: ServerApiDeps): void {
  app.get<{ Params: { channel: string } }>('/v1/channels/:channel', { onRequest }, async (request) => {
    const channel = assertChannel(request.params.channel);
    const [subscribers, presence, last] = await lifecycle.track(() =>
      Promise.all([engine.channels.subscribers(channel), engine.presence.members(channel, 0), engine.bus.latest(channel, 1)]),
    );
    return {
      channel,
      subscribers,
      // PROTOCOL.md: null while the channel has no member.
      presence: presence.count > 0 ? { count: presence.count } : null,
      lastId: last.length > 0 ? last[last.length - 1]!.id : null,
    };
  });

  app.get('/v1/channels', { onRequest }, async (request) => {
    const options = { prefix: prefixParam(request), after: afterParam(request), limit: pageLimit(request) };
    const { channels, next } = await lifecycle.track(() => engine.channels.list(options));
    return { channels: channels.map(({ channel, subscribers }) => ({ channel, subscribers })), next };
  });

  app.get<{ Params: { channel: string } }>('/v1/channels/:channel/presence', { onRequest }, async (request) => {
    const channel = assertChannel(request.params.channel);
    const { count, members, truncated } = await lifecycle.track(() => engine.presence.members(channel, MAX_PRESENCE_MEMBERS));
    const body: { count: number; members: { user: string; info: unknown; connections: number }[]; truncated?: true } = {
      count,
      members: members.map(({ user, info, connections }) => ({ user, info, connections })),
    };
    if (truncated) body.truncated = true;
    return body;
  });
}
