import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { pusherWebhookBody, pusherWebhookEvent, pusherWebhookHeaders, type PusherWebhookEvent } from '../../protocol/pusher/webhooks.js';
import { labelled, type Receiver } from './receiver.js';

/**
 * A Pusher app's webhook URLs (docs/pusher.md): each batch of the channel's
 * transitions becomes one Pusher webhook, `{"time_ms","events"}` with the
 * events this URL asked for, signed with the app's secret. `time_ms` is the
 * batch's own time, so every retry sends the same body.
 */
export function pusherReceivers(app: PusherApp): Receiver[] {
  const hooks = new Map(app.webhooks.map((w) => [w.url, w] as const));
  // The key prefix keeps a URL that is both a native and a Pusher receiver two streams.
  return labelled([...hooks.keys()], `pusher:${app.id}:`).map((r) => {
    const kinds = hooks.get(r.url)!.events;
    return {
      ...r,
      request(batch) {
        const events: PusherWebhookEvent[] = [];
        for (const json of batch.events) {
          const converted = pusherWebhookEvent(json);
          if (converted && converted.appId === app.id && (!kinds || kinds.includes(converted.event.name))) events.push(converted.event);
        }
        if (events.length === 0) return undefined;
        const body = pusherWebhookBody(batch.time, events);
        return { body, headers: pusherWebhookHeaders(app, body) };
      },
    };
  });
}
