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
  private readonly pending = new Map<string, { done: Promise<void>; subscribed: boolean }>();
  /**
   * The connection's publishes, one after the other: two publishes sent in
   * order are stored in that order (and answered in it), whatever the rate
   * limiter's or the store's round trips do.
   */
  private publishing: Promise<void> = Promise.resolve();

  constructor(
    private readonly session: Session,
    private readonly reply: (text: string) => void,
    private readonly deps: WsMessagesDeps,
  ) {}

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
    const pending = this.pending.get(channel);
    if (pending ? pending.subscribed : this.session.has(channel)) throw new RelayError('already_subscribed', undefined, { channel });
    if (this.session.size + this.pending.size >= maxSubscriptionsPerConnection) {
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
    const before = this.pending.get(channel)?.done;
    const done: Promise<void> = (before ? before.then(work) : work()).finally(() => {
      if (this.pending.get(channel)?.done === done) this.pending.delete(channel);
    });
    this.pending.set(channel, { done, subscribed });
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
