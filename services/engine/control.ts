import type { Logger } from 'pino';
import type { Bus, BusEvent } from './bus.js';

/**
 * The bus channel that carries operator commands to every client-server.
 * `#` cannot appear in a channel name (PROTOCOL.md), so no client can
 * subscribe or publish to it; being a bus channel, it is stored and
 * backfilled after a reconnect like any other, so a client-server whose
 * pub/sub connection blinked still gets the command.
 */
export const CONTROL_CHANNEL = '#control';

export type ControlCommand =
  | { type: 'disconnect'; user: string }
  /** Pusher HTTP API `POST /apps/{app}/users/{user}/terminate_connections`: Pusher sockets of `app` signed in as `user`. */
  | { type: 'pusher-terminate'; app: string; user: string };

/**
 * Deployment-wide commands (PROTOCOL.md v1.1 `POST /v1/users/{user}/disconnect`),
 * built on the bus, so every engine has it the same way.
 */
export class Control {
  /** Everyone listening in this process (the native disconnects, the Pusher endpoint's terminations). */
  private readonly handlers = new Set<(command: ControlCommand) => void>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly bus: Pick<Bus, 'publish' | 'subscribe' | 'unsubscribe'>,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the command is stored and published to every client-server subscribed now. */
  async send(command: ControlCommand): Promise<void> {
    await this.bus.publish([{ channel: CONTROL_CHANNEL, data: JSON.stringify(command), ts: Date.now() }]);
  }

  /**
   * `handler` hears every command published from now on; resolves once the
   * bus subscription is live. Several handlers share one subscription;
   * the returned function removes this one (the last one unsubscribes).
   */
  async listen(handler: (command: ControlCommand) => void): Promise<() => Promise<void>> {
    if (this.handlers.has(handler)) throw new Error('Control: already listening');
    this.handlers.add(handler);
    this.subscribed ??= this.subscribe();
    try {
      await this.subscribed;
    } catch (err) {
      // A failed subscribe (the broker still connecting) leaves nothing behind, so the caller can listen again.
      this.handlers.delete(handler);
      this.subscribed = undefined;
      throw err;
    }
    return async () => {
      if (this.handlers.delete(handler) && this.handlers.size === 0) await this.stop();
    };
  }

  /** Stops every handler of this process. */
  async stop(): Promise<void> {
    const subscribed = this.subscribed;
    if (!subscribed) return;
    this.subscribed = undefined;
    this.handlers.clear();
    const live = await subscribed.then(
      () => true,
      () => false,
    );
    if (live) await this.bus.unsubscribe(CONTROL_CHANNEL);
  }

  private subscribe(): Promise<void> {
    return this.bus.subscribe(CONTROL_CHANNEL, {
      onEvent: (event: BusEvent) => {
        const command = parseCommand(event.data);
        if (!command) {
          this.logger.warn({ bytes: event.data.length }, 'dropped a malformed control command');
          return;
        }
        for (const handler of this.handlers) {
          try {
            handler(command);
          } catch (err) {
            this.logger.error({ err, type: command.type }, 'a control command handler threw');
          }
        }
      },
      // Commands are not replayed across a gap (Redis restarted without persistence while this
      // client-server's subscription was down): the operator's request was answered, so say so loudly.
      onGap: () => this.logger.error('operator commands (disconnects) may have been missed while the bus was away'),
    });
  }
}

function parseCommand(data: Buffer): ControlCommand | undefined {
  try {
    const value = JSON.parse(data.toString()) as { type?: unknown; user?: unknown; app?: unknown };
    if (typeof value.user !== 'string') return undefined;
    if (value.type === 'disconnect') return { type: 'disconnect', user: value.user };
    if (value.type === 'pusher-terminate' && typeof value.app === 'string') return { type: 'pusher-terminate', app: value.app, user: value.user };
    return undefined;
  } catch {
    return undefined;
  }
}
