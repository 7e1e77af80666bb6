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

export type ControlCommand = { type: 'disconnect'; user: string };

/**
 * Deployment-wide commands (PROTOCOL.md v1.1 `POST /v1/users/{user}/disconnect`),
 * built on the bus, so every engine has it the same way.
 */
export class Control {
  private listening = false;

  constructor(
    private readonly bus: Pick<Bus, 'publish' | 'subscribe' | 'unsubscribe'>,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the command is stored and published to every client-server subscribed now. */
  async send(command: ControlCommand): Promise<void> {
    await this.bus.publish([{ channel: CONTROL_CHANNEL, data: JSON.stringify(command), ts: Date.now() }]);
  }

  /** A client-server hears every command published from now on. */
  async listen(handler: (command: ControlCommand) => void): Promise<void> {
    if (this.listening) throw new Error('Control: already listening');
    this.listening = true;
    // A failed subscribe (the broker still connecting) leaves nothing behind, so the caller can listen again.
    await this.subscribe(handler).catch((err: unknown) => {
      this.listening = false;
      throw err;
    });
  }

  private subscribe(handler: (command: ControlCommand) => void): Promise<void> {
    return this.bus.subscribe(CONTROL_CHANNEL, {
      onEvent: (event: BusEvent) => {
        const command = parseCommand(event.data);
        if (command) handler(command);
        else this.logger.warn({ bytes: event.data.length }, 'dropped a malformed control command');
      },
      // Commands are not replayed across a gap (Redis restarted without persistence while this
      // client-server's subscription was down): the operator's request was answered, so say so loudly.
      onGap: () => this.logger.error('operator commands (disconnects) may have been missed while the bus was away'),
    });
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.bus.unsubscribe(CONTROL_CHANNEL);
  }
}

function parseCommand(data: Buffer): ControlCommand | undefined {
  try {
    const value = JSON.parse(data.toString()) as { type?: unknown; user?: unknown };
    return value.type === 'disconnect' && typeof value.user === 'string' ? { type: 'disconnect', user: value.user } : undefined;
  } catch {
    return undefined;
  }
}
