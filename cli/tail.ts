import { signSubscriberToken } from '../services/client-server/auth/jwt.js';
import { connect, type RelayErrorInfo } from '../sdk/src/index.js';
import type { CliDeps } from './deps.js';
import { DEFAULT_CLIENT_URL } from './deps.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { requireSecret } from './token.js';

/** Lifetime of the tokens `tail` mints for itself; refreshed through getToken when the server closes with 4001. */
const SELF_MINTED_TTL_SECONDS = 3600;

export interface TailOptions {
  since?: string;
  clientUrl?: string;
  /** Exit 0 after this many events. */
  limit?: number;
}

/**
 * `eventrelay tail <channel>`: one JSON line per event on stdout, status on
 * stderr; reconnects and resumes after the last printed id until
 * interrupted. The token is EVENTRELAY_TOKEN, or one minted from
 * SUBSCRIBER_JWT_SECRET, or none (a local stack with auth disabled).
 */
export function tailCommand(channel: string, options: TailOptions, deps: CliDeps): Promise<ExitCodeValue> {
  const url = options.clientUrl ?? deps.env.EVENTRELAY_CLIENT_URL ?? DEFAULT_CLIENT_URL;
  const fixed = deps.env.EVENTRELAY_TOKEN;
  const getToken = !fixed && deps.env.SUBSCRIBER_JWT_SECRET
    ? () => signSubscriberToken(requireSecret(deps), { channels: [channel], ttlSeconds: SELF_MINTED_TTL_SECONDS, sub: 'eventrelay-cli' })
    : undefined;
  const note = (text: string) => deps.stderr.write(`eventrelay: ${text}\n`);

  return new Promise((resolve) => {
    const client = connect(url, { token: fixed, getToken });
    let printed = 0;
    let done = false;
    const finish = (code: ExitCodeValue) => {
      if (done) return;
      done = true;
      client.close();
      resolve(code);
    };
    const failWith = (error: RelayErrorInfo) => {
      note(`${error.code}: ${error.message}`);
      finish(error.code === 'unauthorized' || error.code === 'forbidden' ? ExitCode.auth : error.code === 'invalid_channel' || error.code === 'invalid_request' ? ExitCode.usage : ExitCode.failed);
    };
    deps.signal.addEventListener('abort', () => finish(ExitCode.ok), { once: true });

    client.on('state', (change) => {
      if (change.state === 'reconnecting') {
        const why = change.closeCode === undefined ? '' : ` (close ${change.closeCode})`;
        note(`connection lost${why}; reconnecting to ${url} in ${change.delayMs} ms`);
      } else if (change.state === 'closed' && change.error) failWith(change.error);
    });
    client.subscribe(
      channel,
      (event) => {
        if (done) return;
        deps.stdout.write(`${JSON.stringify(event)}\n`);
        if (options.limit !== undefined && ++printed >= options.limit) finish(ExitCode.ok);
      },
      {
        since: options.since,
        onSubscribed: (info) => {
          if (!info.recovered) note(`warning: events after ${info.since} are no longer all held; some may be missing (recovered:false)`);
          else note(`${info.resumed ? 'resumed' : 'subscribed to'} ${channel} on ${url}`);
        },
        onError: failWith,
      },
    );
  });
}
