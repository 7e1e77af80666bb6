import type { FastifyInstance } from 'fastify';
import { channelType, isValidPusherChannel } from '../../protocol/pusher/channel-name.js';
import type { PusherRouteDeps } from './api-deps.js';
import { badRequest } from './pusher-http-error.js';
import { parseQueryInfo } from './trigger-body.js';

/** The channel queries and `terminate_connections`. */
export function registerQueryRoutes(api: FastifyInstance, deps: PusherRouteDeps): void {
  const { info } = deps;

  api.get('/apps/:appId/channels', async (request) => {
    const app = request.pusherApp!;
    const query = request.query as { filter_by_prefix?: string; info?: string };
    const prefix = query.filter_by_prefix ?? '';
    const wanted = parseQueryInfo(query.info, ['user_count', 'subscription_count']);
    if (wanted.has('user_count') && !prefix.startsWith('presence-')) throw badRequest('info=user_count needs filter_by_prefix=presence-');
    const channels: Record<string, Record<string, number>> = {};
    for (const { name, subscribers } of await info.list(app, prefix)) {
      const entry: Record<string, number> = {};
      if (wanted.has('user_count') && channelType(name).kind === 'presence') entry.user_count = await info.userCount(app, name);
      if (wanted.has('subscription_count')) entry.subscription_count = subscribers;
      channels[name] = entry;
    }
    return { channels };
  });

  api.get('/apps/:appId/channels/:channelName', async (request) => {
    const app = request.pusherApp!;
    const name = (request.params as { channelName: string }).channelName;
    if (!isValidPusherChannel(name, app.limits.maxChannelNameLength)) throw badRequest(`Invalid channel name ${JSON.stringify(name)}`);
    const wanted = parseQueryInfo((request.query as { info?: string }).info, ['user_count', 'subscription_count', 'cache']);
    const type = channelType(name);
    if (wanted.has('user_count') && type.kind !== 'presence') throw badRequest('user_count is only available for presence channels');
    if (wanted.has('cache') && !type.cache) throw badRequest('cache is only available for cache channels');
    const answer: Record<string, unknown> = { occupied: await info.occupied(app, name) };
    if (wanted.has('user_count')) answer.user_count = await info.userCount(app, name);
    if (wanted.has('subscription_count')) answer.subscription_count = await info.subscriptionCount(app, name);
    if (wanted.has('cache')) {
      const cached = await info.cache(app, name, deps.now());
      if (cached) answer.cache = cached;
    }
    return answer;
  });

  api.get('/apps/:appId/channels/:channelName/users', async (request) => {
    const app = request.pusherApp!;
    const name = (request.params as { channelName: string }).channelName;
    if (!isValidPusherChannel(name, app.limits.maxChannelNameLength)) throw badRequest(`Invalid channel name ${JSON.stringify(name)}`);
    if (channelType(name).kind !== 'presence') throw badRequest('Users can only be listed for presence channels');
    return { users: (await info.users(app, name)).map((id) => ({ id })) };
  });

  api.post('/apps/:appId/users/:userId/terminate_connections', async (request) => {
    const app = request.pusherApp!;
    const user = (request.params as { userId: string }).userId;
    // Answered once the command is stored and published to every client-server (as the native disconnect).
    await deps.engine.control.send({ type: 'pusher-terminate', app: app.id, user });
    return {};
  });
}
