import type { Logger } from 'pino';
import {
  PONG_MESSAGE,
  errorMessage,
  parseClientMessage,
  subscribedMessage,
  unsubscribedMessage,
  type PublishMessage,
} from '../../../protocol/client-messages.js';
import { RelayError, isRelayError } from '../../../protocol/errors.js';
import type { Config } from '../../../runtime/config/schema.js';
import type { ClientMetrics } from '../../client-metrics.js';
import { clientPublish, type ClientPublishDeps } from '../../client-publish.js';
import type { Session } from '../../session.js';

export interface WsMessagesDeps extends ClientPublishDeps {
  config: ClientPublishDeps['config'] & Pick<Config, 'maxSubscriptionsPerConnection'>;
  bus: ClientPublishDeps['bus'] & { ids: Parameters<typeof parseClientMessage>[1] };
  logger: Logger;
  metrics: ClientMetrics;
}

/** Where a connection's replies go (its WsConnection, which writes them after the events already given). */
export interface WsReplies {
  reply(text: string): void;
}

/** One settled promise for every connection's first publish to chain on. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * The client-to-server messages of one WebSocket (PROTOCOL.md, Client to
 * server, and v1.1 publish), over its Session; replies go out through
 * `reply`. Kept apart from ws-connection.ts, which owns the socket.
 */
export class WsMessages {
  /**
   * Per channel, the subscribe or unsubscribe still under way (the last one
   * asked) and whether the channel is subscribed once it is done: the
   * client's requests for one channel are carried out, and answered, in the
   * order it sent them, and a subscribe is a duplicate when the channel will
   * be subscribed by then.
   */
  private pending: Map<string, { done: Promise<void>; subscribed: boolean }> | undefined;
  /**
   * The connection's publishes, one after the other: two publishes sent in
   * order are stored in that order (and answered in it), whatever the rate
   * limiter's or the store's round trips do.
   */
  private publishing: Promise<void> = SETTLED;

  constructor(
    private readonly session: Session,
    private readonly replies: WsReplies,
    private readonly deps: WsMessagesDeps,
  ) {}

  private reply(text: string): void {
    this.replies.reply(text);
  }

  /** One text frame from the client. */
  handle(text: string): void {
    try {
      const message = parseClientMessage(text, this.deps.bus.ids);
      if (message.type === 'ping') this.reply(PONG_MESSAGE);
      else if (message.type === 'subscribe') this.subscribe(message.channel, message.since, message.presence === true);
      else if (message.type === 'publish') this.publish(message);
      else this.unsubscribe(message.channel);
    } catch (err) {
      this.replyError(err);
    }
  }

  /** PROTOCOL.md order after parsing: permission (presence included), duplicate, then the per-connection limit. */
  private subscribe(channel: string, since: string | undefined, presence: boolean): void {
    const { maxSubscriptionsPerConnection } = this.deps.config;
    this.session.authorize(channel, presence);
    const pending = this.pending?.get(channel);
    if (pending ? pending.subscribed : this.session.has(channel)) throw new RelayError('already_subscribed', undefined, { channel });
    if (this.session.size + (this.pending?.size ?? 0) >= maxSubscriptionsPerConnection) {
      throw new RelayError('invalid_request', `A connection may hold at most ${maxSubscriptionsPerConnection} subscriptions.`, { channel });
    }
    this.enqueue(channel, true, () => this.open(channel, since, presence));
  }

  private async open(channel: string, since: string | undefined, presence: boolean): Promise<void> {
    try {
      const opened = await this.session.subscribe(channel, { since, presence });
      if (!opened) return;
      this.reply(subscribedMessage(channel, opened.recovered, opened.presence));
      opened.start();
    } catch (err) {
      this.replyError(err);
    }
  }

  private unsubscribe(channel: string): void {
    this.enqueue(channel, false, async () => {
      this.session.unsubscribe(channel);
      // Unsubscribing from a channel one does not have is harmless and answered the same way.
      this.reply(unsubscribedMessage(channel));
    });
  }

  /** Runs `work` after what is under way for `channel` (at once when nothing is); it never rejects. */
  private enqueue(channel: string, subscribed: boolean, work: () => Promise<void>): void {
    // Made on the first subscribe and dropped once nothing is under way: an idle connection holds no map.
    const pending = (this.pending ??= new Map());
    const before = pending.get(channel)?.done;
    const done: Promise<void> = (before ? before.then(work) : work()).finally(() => {
      if (this.pending?.get(channel)?.done !== done) return;
      this.pending.delete(channel);
      if (this.pending.size === 0) this.pending = undefined;
    });
    pending.set(channel, { done, subscribed });
  }

  private publish(message: PublishMessage): void {
    this.publishing = this.publishing.then(async () => {
      if (!this.session.isOpen) return;
      try {
        this.reply(await clientPublish(this.deps, this.session.claims, message));
      } catch (err) {
        this.replyError(err);
      }
    });
  }

  private replyError(err: unknown): void {
    const relayError = isRelayError(err) ? err : new RelayError('internal');
    if (!isRelayError(err)) this.deps.logger.error({ err }, 'unexpected error handling a client frame');
    this.deps.metrics.errors.inc({ code: relayError.code });
    this.reply(errorMessage(relayError));
  }
}
