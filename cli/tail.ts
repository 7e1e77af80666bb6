import { assertChannelArgument } from './channel.js';
import type { CliDeps } from './deps.js';
import { DEFAULT_CLIENT_URL } from './deps.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { signSubscriberToken } from './jwt.js';
import { connect, socketFactory, socketUrl, type RelayErrorInfo, type StateChange } from './relay.js';
import { requireSecret } from './token.js';
import { serverUrl } from './urls.js';

/** Lifetime of the tokens `tail` mints for itself; refreshed through getToken when the server closes with 4001. */
const SELF_MINTED_TTL_SECONDS = 3600;
/**
 * Attempts at the first connection before `tail` gives up with the cause
 * (about 3.5 s at most with the SDK's backoff): long enough for a server
 * that is just starting, short enough that a wrong address is reported, not
 * retried forever. Once connected, `tail` reconnects without limit.
 */
export const MAX_FIRST_CONNECT_ATTEMPTS = 4;

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
  assertChannelArgument(channel);
  const base = serverUrl(
    { value: options.clientUrl, option: '--client-url', variable: 'EVENTRELAY_CLIENT_URL', fallback: DEFAULT_CLIENT_URL, protocols: ['http:', 'https:', 'ws:', 'wss:'] },
    deps.env,
  );
  const fixed = deps.env.EVENTRELAY_TOKEN || undefined;
  const secret = !fixed && deps.env.SUBSCRIBER_JWT_SECRET ? requireSecret(deps) : undefined;
  const getToken = secret ? () => signSubscriberToken(secret, { channels: [channel], ttlSeconds: SELF_MINTED_TTL_SECONDS, sub: 'eventrelay-cli' }) : undefined;
  const tokenSource = fixed ? 'EVENTRELAY_TOKEN' : secret ? 'the token minted from SUBSCRIBER_JWT_SECRET' : 'no token (EVENTRELAY_TOKEN and SUBSCRIBER_JWT_SECRET unset)';
  const target = socketUrl(base.href, undefined);
  const note = (text: string) => deps.stderr.write(`eventrelay: ${text}\n`);

  return new Promise((resolve) => {
    const client = connect(base.href, { token: fixed, getToken, socketFactory });
    let printed = 0;
    let connected = false;
    let done = false;
    const finish = (code: ExitCodeValue) => {
      if (done) return;
      done = true;
      client.close();
      resolve(code);
    };
    const failWith = (error: RelayErrorInfo) => {
      const code = exitCode(error);
      const hint = code === ExitCode.auth && (error.code === 'unauthorized' || error.status === 401) ? ` (credentials: ${tokenSource})` : '';
      // "HTTP 404 not_found: <the server's message>"; a status without a coded body is said once.
      const what = error.status === undefined ? `${error.code}: ` : error.code !== `http_${error.status}` ? `HTTP ${error.status} ${error.code}: ` : error.message.startsWith('HTTP') ? '' : `HTTP ${error.status}: `;
      note(`${connected ? '' : `cannot subscribe at ${target}: `}${what}${error.message}${hint}`);
      finish(code);
    };
    deps.signal.addEventListener('abort', () => finish(ExitCode.ok), { once: true });

    client.on('state', (change) => {
      if (change.state === 'open') connected = true;
      else if (change.state === 'closed' && change.error) failWith(change.error);
      else if (change.state === 'reconnecting') {
        if (connected) return void note(`connection lost (${cause(change)}); reconnecting to ${target} in ${change.delayMs} ms`);
        if ((change.attempt ?? 0) >= MAX_FIRST_CONNECT_ATTEMPTS) {
          note(`cannot connect to ${target} after ${change.attempt} attempts: ${cause(change)}; is the client-server running (npm start), or set --client-url / EVENTRELAY_CLIENT_URL`);
          return finish(ExitCode.failed);
        }
        note(`cannot connect to ${target} (${cause(change)}); retrying in ${change.delayMs} ms`);
      }
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
          note(`${info.resumed ? 'resumed' : 'subscribed to'} ${channel} on ${target}`);
          if (!info.recovered) note(`warning: events after ${info.since} are no longer all held; some may be missing (recovered:false)`);
        },
        onError: failWith,
      },
    );
  });
}

/** Credentials refused (3), the input refused (2), anything else the server or the network did (1). */
function exitCode(error: RelayErrorInfo): ExitCodeValue {
  if (error.code === 'unauthorized' || error.code === 'forbidden' || error.status === 401 || error.status === 403) return ExitCode.auth;
  if (error.code === 'invalid_channel' || error.code === 'invalid_request') return ExitCode.usage;
  return ExitCode.failed;
}

function cause(change: StateChange): string {
  const parts = [change.status === undefined ? undefined : `HTTP ${change.status}`, change.reason, change.closeCode === undefined ? undefined : `close ${change.closeCode}`];
  return parts.filter(Boolean).join(', ') || 'no reason given';
}
