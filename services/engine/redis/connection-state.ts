import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/**
 * What each Redis connection (by role: commands, pubsub) last failed with,
 * until it is ready again. ioredis emits 'error' on every reconnect attempt,
 * several times a second while Redis is down or refuses our password: the
 * log gets one warning per change of cause (and one info line when the
 * connection is back), the repeats go to debug, and readiness names the
 * cause, so that `/readyz` says "WRONGPASS …" instead of only "reconnecting".
 */
export class ConnectionState {
  private readonly failures = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** Follows one connection's 'error' and 'ready' events; `context` goes on its log lines. */
  watch(role: string, connection: EventEmitter, context: Record<string, unknown>): void {
    connection.on('error', (err: Error) => {
      const cause = err.message;
      if (this.failures.get(role) === cause) {
        this.log.debug({ role, err: cause }, 'redis connection error (again)');
        return;
      }
      this.failures.set(role, cause);
      this.log.warn({ role, err: cause }, 'redis connection error');
    });
    connection.on('ready', () => {
      const after = this.failures.get(role);
      this.failures.delete(role);
      this.log.info({ role, ...context, ...(after === undefined ? {} : { after }) }, 'redis connection ready');
    });
  }

  /** The distinct causes of the connections that are not ready, or undefined when none failed. */
  cause(): string | undefined {
    const causes = [...new Set(this.failures.values())];
    return causes.length === 0 ? undefined : causes.join('; ');
  }
}

/** `reason` with the connections' cause appended, unless it already says it. */
export function withCause(reason: string, cause: string | undefined): string {
  return cause === undefined || reason.includes(cause) ? reason : `${reason} (${cause})`;
}
