import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OutgoingEvent } from '../../engine/bus.js';
import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { channelType, toNativeChannel } from '../../protocol/pusher/channel-name.js';
import { encodeEnvelope } from '../../protocol/pusher/envelope.js';
import type { ChannelInfo } from './channel-info.js';
import type { PusherRouteDeps } from './api-deps.js';
import { PusherHttpError, badRequest } from './pusher-http-error.js';
import { parseJsonBody, parseTrigger, type InfoAttributes, type TriggerItem } from './trigger-body.js';

/** `POST /apps/{id}/events` and `POST /apps/{id}/batch_events`. */
export function registerEventRoutes(api: FastifyInstance, deps: PusherRouteDeps): void {
  api.post('/apps/:appId/events', async (request) => {
    const app = request.pusherApp!;
    const item = parseTrigger(app, parseJsonBody(request.body));
    await store(request, deps, app, [item]);
    if (!item.info.userCount && !item.info.subscriptionCount) return {};
    const channels: Record<string, Record<string, number>> = {};
    await Promise.all(item.channels.map(async (name) => (channels[name] = await attributes(deps.info, app, name, item.info))));
    return { channels };
  });

  api.post('/apps/:appId/batch_events', async (request) => {
    const app = request.pusherApp!;
    const body = parseJsonBody(request.body);
    if (!Array.isArray(body.batch) || body.batch.length === 0) throw badRequest('batch must be a non-empty list of events');
    if (body.batch.length > app.limits.maxBatchEvents) throw badRequest(`Cannot batch-send more than ${app.limits.maxBatchEvents} events at once`);
    // Every item is checked before anything is stored: a batch is stored all or nothing.
    const items = body.batch.map((raw: unknown, i) => {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(`batch[${i}] must be an object`);
      const item = parseTrigger(app, raw as Record<string, unknown>, `batch[${i}].`);
      if (item.channels.length !== 1) throw badRequest(`batch[${i}] needs exactly one channel`);
      return item;
    });
    await store(request, deps, app, items);
    if (!items.some((i) => i.info.userCount || i.info.subscriptionCount)) return {};
    return { batch: await Promise.all(items.map((i) => attributes(deps.info, app, i.channels[0]!, i.info))) };
  });
}

/** One bus publish for the whole request: stored in every channel's history, then delivered on both protocols. */
async function store(request: FastifyRequest, deps: PusherRouteDeps, app: PusherApp, items: readonly TriggerItem[]): Promise<void> {
  const ts = deps.publisher.receivedAt(request);
  const events: OutgoingEvent[] = [];
  for (const item of items) {
    const data = encodeEnvelope({ event: item.name, data: item.data, exclude: item.socketId });
    if (Buffer.byteLength(data) > deps.config.maxEventBytes) throw new PusherHttpError(413, `The event is larger than this server stores (MAX_EVENT_BYTES ${deps.config.maxEventBytes})`);
    for (const name of item.channels) events.push({ channel: toNativeChannel(app.id, name), data, ts });
  }
  await deps.publisher.publish(request, events);
}

/** The `info` attributes of one channel; those that do not apply to its kind are left out (as Pusher's example shows). */
async function attributes(info: ChannelInfo, app: PusherApp, name: string, wanted: InfoAttributes): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (wanted.userCount && channelType(name).kind === 'presence') out.user_count = await info.userCount(app, name);
  if (wanted.subscriptionCount) out.subscription_count = await info.subscriptionCount(app, name);
  return out;
}
