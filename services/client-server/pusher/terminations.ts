import type { Logger } from 'pino';
import type { Control, ControlCommand } from '../../engine/control.js';
import type { SignedInUsers } from './signed-in-users.js';

/** A failed listen (the broker not reachable yet at start) is tried again after this long. */
const LISTEN_RETRY_MS = 1000;

/**
 * This client-server's ear for the Pusher HTTP API's `terminate_connections`
 * (sent by any source-server through Control): every socket of that app
 * signed in as that user is closed with 4009. Listening starts in the
 * background and is retried until it works, since the broker may still be
 * connecting when the app is built.
 */
export function listenForTerminations(control: Pick<Control, 'listen'>, users: SignedInUsers, logger: Logger): { stop(): Promise<void> } {
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const handle = (command: ControlCommand) => {
    if (command.type !== 'pusher-terminate') return;
    const closed = users.terminate(command.app, command.user);
    logger.info({ app: command.app, closed }, 'pusher terminate_connections');
  };
  const start = () => {
    control.listen(handle).then(
      (done) => {
        if (stopped) void done();
        else unlisten = done;
      },
      (err: unknown) => {
        if (stopped) return;
        // The broker is usually still connecting at start: one line, no stack.
        logger.info({ reason: (err as Error).message }, 'cannot listen for Pusher terminate_connections yet; retrying');
        retry = setTimeout(start, LISTEN_RETRY_MS).unref();
      },
    );
  };
  start();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await unlisten?.();
    },
  };
}
