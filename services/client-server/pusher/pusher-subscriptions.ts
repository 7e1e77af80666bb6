import type { PusherApp } from '../../runtime/config/pusher-apps.js';
import { toNativeChannel, type PusherChannelType } from '../../protocol/pusher/channel-name.js';
import { cacheMiss, subscriptionError, subscriptionSucceeded } from '../../protocol/pusher/messages.js';
import type { PusherMember } from '../../protocol/pusher/presence-member.js';
import { OutboundEvent } from '../outbound-event.js';
import { Subscription, type Sink } from '../subscription.js';
import { checkSubscribe, type SignedInUser, type SubscribeRefusal } from './channel-auth.js';
import type { PusherContext } from './pusher-context.js';
import { pusherWireOf } from './pusher-frame.js';
import type { PusherPresenceRoom, RoomListener } from './presence-room.js';

/**
 * How far back a cache channel looks for its last event: client events are
 * never cached (pusher/docs cache-channels.md), so a few of them on top of
 * the last triggered event are skipped; behind more than this it is a miss.
 */
export const CACHE_SCAN_EVENTS = 10;

/** The socket the subscriptions belong to. */
export interface SubscriptionsOwner extends Pick<Sink, 'send' | 'gap'> {
  readonly socketId: string;
  readonly app: PusherApp;
  signedInUser(): SignedInUser | undefined;
  sendText(text: string): void;
}

/** One channel of one Pusher socket, from its subscribe to its release. */
export interface PusherChannelState {
  name: string;
  native: string;
  type: PusherChannelType;
  /** `subscription_succeeded` was sent: events flow, client events may be sent. */
  live: boolean;
  released: boolean;
  subscription?: Subscription;
  member?: PusherMember;
  joined?: Promise<boolean>;
  room?: PusherPresenceRoom;
  listener?: RoomListener;
  presenceReply?: string;
}

class Refused extends Error {
  constructor(readonly refusal: SubscribeRefusal) {
    super(refusal.error);
  }
}

/**
 * A Pusher socket's channels. A subscribe joins the hub first (events
 * buffer in the Subscription), then presence, then reads the cache
 * channel's last event, then answers `subscription_succeeded` and goes live:
 * no event is sent before the answer (pusher-js does not filter by
 * subscription state), none is lost after it. A refused or failed subscribe
 * answers `pusher:subscription_error` and keeps the socket.
 */
export class PusherSubscriptions {
  private readonly states = new Map<string, PusherChannelState>();

  constructor(
    private readonly owner: SubscriptionsOwner,
    private readonly ctx: PusherContext,
  ) {}

  live(name: string): PusherChannelState | undefined {
    const state = this.states.get(name);
    return state?.live ? state : undefined;
  }

  subscribe(request: { channel: string; auth?: unknown; channelData?: unknown }): void {
    const { owner, ctx } = this;
    const name = request.channel;
    const existing = this.states.get(name);
    if (existing) {
      // Subscribing again is answered again; nothing is counted twice. A subscribe under way answers by itself.
      if (existing.live) owner.sendText(subscriptionSucceeded(name, existing.presenceReply));
      return;
    }
    if (this.states.size >= ctx.config.maxSubscriptionsPerConnection) {
      this.refuse(name, { type: 'LimitReached', error: `A connection may hold at most ${ctx.config.maxSubscriptionsPerConnection} channels`, status: 4100 });
      return;
    }
    const grant = checkSubscribe(owner.app, owner.socketId, request, owner.signedInUser());
    if ('refusal' in grant) {
      this.refuse(name, grant.refusal);
      return;
    }
    const state: PusherChannelState = { name, native: toNativeChannel(owner.app.id, name), type: grant.type, member: grant.member, live: false, released: false };
    this.states.set(name, state);
    this.open(state).catch((err: unknown) => {
      if (state.released) return;
      if (!(err instanceof Refused)) ctx.logger.warn({ err, channel: state.native }, 'pusher subscribe failed');
      this.refuse(name, err instanceof Refused ? err.refusal : { type: 'Unavailable', error: 'The relay cannot reach its event store right now; retry shortly', status: 503 });
      this.unsubscribe(name);
    });
  }

  unsubscribe(name: string): void {
    const state = this.states.get(name);
    if (!state) return;
    this.states.delete(name);
    void this.release(state);
  }

  /** Every channel released (the socket closed); presence leaves are done when it resolves. */
  async releaseAll(): Promise<void> {
    const states = [...this.states.values()];
    this.states.clear();
    await Promise.all(states.map((s) => this.release(s)));
  }

  private async open(state: PusherChannelState): Promise<void> {
    const { owner, ctx } = this;
    // Its own sink: once released it sends nothing more, while its presence leave (which comes first) is under way.
    const sink: Sink = { send: (event) => state.released || owner.send(event), sendPresence: () => true, gap: (channel) => owner.gap(channel) };
    const subscription = new Subscription(state.native, sink, ctx.bus.ids, ctx.hub);
    state.subscription = subscription;
    await ctx.hub.join(subscription);
    if (state.released) return;
    if (state.member) await this.joinPresence(state, state.member);
    if (state.released) return;
    const cached = state.type.cache ? await this.cachedEvent(state.native) : undefined;
    if (state.released) return;
    // From the attach on, the room writes this socket's member_added/removed: nothing may come between it and the answer.
    if (state.member && state.room) {
      state.listener = { presenceUser: state.member.userId, sendText: (text) => owner.sendText(text) };
      state.presenceReply = state.room.attach(state.listener, { user: state.member.userId, info: state.member.info }, owner.app.limits.maxPresenceMembers);
    }
    owner.sendText(subscriptionSucceeded(state.name, state.presenceReply));
    state.live = true;
    ctx.metrics.subscriptions.inc();
    if (state.type.cache) {
      if (cached) owner.send(cached);
      else {
        owner.sendText(cacheMiss(state.name));
        ctx.cacheMiss(state.native);
      }
    }
    subscription.goLive(cached?.id, []);
  }

  private async joinPresence(state: PusherChannelState, member: PusherMember): Promise<void> {
    const { ctx, owner } = this;
    const { limits } = owner.app;
    const room = (state.room = ctx.rooms.acquire(state.native, state.name));
    await room.loaded;
    if (state.released) return;
    if (room.size >= limits.maxPresenceMembers && !room.has(member.userId)) {
      throw new Refused({ type: 'LimitReached', error: `The presence channel is full (${limits.maxPresenceMembers} members)`, status: 4100 });
    }
    const joined = ctx.presence.join(state.native, owner.socketId, { user: member.userId, info: member.info });
    state.joined = joined.then(
      () => true,
      () => false,
    );
    await joined;
  }

  /** The cache channel's last event that was not a client event, if it is younger than the app's cache TTL. */
  private async cachedEvent(native: string): Promise<OutboundEvent | undefined> {
    const { ctx, owner } = this;
    const events = await ctx.bus.latest(native, CACHE_SCAN_EVENTS);
    for (let i = events.length - 1; i >= 0; i--) {
      const event = new OutboundEvent(events[i]!);
      const wire = pusherWireOf(event);
      if (!wire || wire.client) continue;
      return ctx.now() - event.event.ts <= owner.app.limits.cacheTtlSeconds * 1000 ? event : undefined;
    }
    return undefined;
  }

  /** Presence leave first, then the hub (whose last leave vacates): `member_removed` comes before `channel_vacated`. */
  private async release(state: PusherChannelState): Promise<void> {
    const { ctx, owner } = this;
    state.released = true;
    if (state.live) ctx.metrics.subscriptions.dec();
    state.live = false;
    if (state.room) {
      if (state.listener) state.room.detach(state.listener);
      ctx.rooms.release(state.room);
    }
    if (state.joined && (await state.joined)) {
      await ctx.presence.leave(state.native, owner.socketId).catch((err: unknown) => ctx.logger.warn({ err, channel: state.native }, 'presence leave failed; the member expires with PRESENCE_TTL_SECONDS'));
    }
    state.subscription?.close();
  }

  private refuse(name: string, refusal: SubscribeRefusal): void {
    this.ctx.metrics.errors.inc({ code: `pusher_subscription_${refusal.status}` });
    this.owner.sendText(subscriptionError(name, refusal.type, refusal.error, refusal.status));
  }
}
