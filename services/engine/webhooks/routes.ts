import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import type { Config } from '../../runtime/config/schema.js';
import { appNamespace } from '../../protocol/pusher/channel-name.js';
import { webhookBody } from './delivery.js';
import { labelled, type Receiver } from './receiver.js';
import { pusherReceivers } from './pusher-receivers.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

const CACHE_MISS_PREFIX = '{"kind":"cache.miss"';

export type WebhookRoutesConfig = Pick<Config, 'webhookUrls' | 'webhookSecret'> & Partial<Pick<Config, 'pusherApps'>>;

/**
 * Which receivers a channel's transitions go to: WEBHOOK_URLS for every
 * channel (native format, PROTOCOL.md v1.1), plus, for the channels of a
 * Pusher app (`pusher:<id>:…`), that app's webhook URLs in Pusher's format.
 * Transitions are recorded only for channels some receiver wants, so no
 * outbox fills up without anyone draining it.
 */
export class WebhookRoutes {
  private readonly native: Receiver[];
  private readonly byApp = new Map<string, { prefix: string; receivers: Receiver[] }>();

  constructor(config: WebhookRoutesConfig) {
    const { webhookUrls, webhookSecret } = config;
    if (webhookUrls.length > 0 && webhookSecret === undefined) throw new Error('WEBHOOK_SECRET is required when WEBHOOK_URLS is set');
    this.native = nativeReceivers(webhookUrls, webhookSecret ?? '');
    for (const app of config.pusherApps ?? []) this.addApp(app);
  }

  /** Whether any receiver is configured (the dispatcher runs only then). */
  get any(): boolean {
    return this.native.length > 0 || this.byApp.size > 0;
  }

  get labels(): string[] {
    return [...this.native, ...[...this.byApp.values()].flatMap((a) => a.receivers)].map((r) => r.label);
  }

  /** Whether transitions of `channel` are appended to its outbox at all. */
  wants(channel: string): boolean {
    return this.native.length > 0 || this.appOf(channel) !== undefined;
  }

  receiversFor(channel: string): readonly Receiver[] {
    const app = this.appOf(channel);
    return app ? [...this.native, ...app.receivers] : this.native;
  }

  private addApp(app: PusherApp): void {
    if (app.webhooks.length > 0) this.byApp.set(app.id, { prefix: appNamespace(app.id), receivers: pusherReceivers(app) });
  }

  private appOf(channel: string): { receivers: Receiver[] } | undefined {
    if (this.byApp.size === 0 || !channel.startsWith('pusher:')) return undefined;
    const app = this.byApp.get(channel.slice('pusher:'.length, channel.indexOf(':', 'pusher:'.length)));
    return app && channel.startsWith(app.prefix) ? app : undefined;
  }
}

/** WEBHOOK_URLS: the native body, `Eventrelay-Signature` signed at each attempt's time. */
function nativeReceivers(urls: readonly string[], secret: string): Receiver[] {
  return labelled(urls).map((r) => ({
    ...r,
    request(batch, nowMs) {
      // cache.miss is Pusher's alone (PROTOCOL.md's kinds do not have it); transitionJson writes the kind first.
      const events = batch.events.filter((e) => !e.startsWith(CACHE_MISS_PREFIX));
      if (events.length === 0) return undefined;
      const body = webhookBody({ ...batch, events });
      return { body, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(secret, body, nowMs) } };
    },
  }));
}

/**
 * `WebhookRoutes.wants` from the configuration alone (no secret needed): the
 * writers of transitions (presence, occupancy, the publish step) use it.
 */
export function webhookChannels(config: Partial<Pick<Config, 'webhookUrls' | 'pusherApps'>>): (channel: string) => boolean {
  if ((config.webhookUrls?.length ?? 0) > 0) return () => true;
  const prefixes = (config.pusherApps ?? []).filter((a) => a.webhooks.length > 0).map((a) => appNamespace(a.id));
  if (prefixes.length === 0) return () => false;
  return (channel) => prefixes.some((p) => channel.startsWith(p));
}
