import type { Logger } from 'pino';
import type { Control, ControlCommand } from '../engine/control.js';
import type { SessionsByUser } from './sessions-by-user.js';

/** A failed listen (the broker not reachable yet at start) is tried again after this long. */
const LISTEN_RETRY_MS = 1000;

/**
 * This client-server's ear for operator commands (PROTOCOL.md v1.1
 * `POST /v1/users/{user}/disconnect`, through Control): every session of the
 * user is closed with 4003. Listening starts in the background and is
 * retried until it works, since the broker may still be connecting when the
 * app is built; until then the client-server is not ready (`problem`).
 */
export class OperatorCommands {
  private listening = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** The last failure's message: the same one again is not worth a warning each second. */
  private lastFailure: string | undefined;

  constructor(
    private readonly deps: {
      control: Pick<Control, 'listen' | 'stop'>;
      users: SessionsByUser;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.deps.control.listen((command) => this.handle(command)).then(
      () => {
        if (this.stopped) void this.deps.control.stop();
        else this.listening = true;
        if (this.lastFailure !== undefined) this.deps.logger.info('listening for operator commands');
        this.lastFailure = undefined;
      },
      (err: unknown) => {
        if (this.stopped) return;
        const reason = err instanceof Error ? err.message : String(err);
        // A broker that is down fails every retry the same way: warn once
        // (the message, not a stack) and keep the repeats for debug.
        if (reason !== this.lastFailure) this.deps.logger.warn({ reason }, 'cannot listen for operator commands yet; retrying');
        else this.deps.logger.debug({ reason }, 'still cannot listen for operator commands; retrying');
        this.lastFailure = reason;
        this.retry = setTimeout(() => this.start(), LISTEN_RETRY_MS).unref();
      },
    );
  }

  /** Why this client-server would miss operator commands right now, or undefined. */
  problem(): string | undefined {
    return this.listening ? undefined : 'not yet listening for operator commands';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.listening) await this.deps.control.stop();
    this.listening = false;
  }

  private handle(command: ControlCommand): void {
    if (command.type !== 'disconnect') return;
    const closed = this.deps.users.disconnect(command.user);
    this.deps.logger.info({ closed }, 'operator disconnect');
  }
}
