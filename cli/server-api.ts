import { assertChannelArgument } from './channel.js';
import type { CliDeps } from './deps.js';
import { CliError, ExitCode } from './exit-codes.js';
import { httpError } from './http-error.js';
import { sourceUrl } from './publish.js';
import { keyHint, sourceRequest } from './source-request.js';
import { endpoint } from './urls.js';

/**
 * The server-API commands (PROTOCOL.md v1.1, "Server API"; publisher key as
 * for publishing): `history`, `channels`, `presence`, `disconnect`. Each
 * prints JSON lines on stdout (one per event, channel or member) and its
 * notes on stderr, so that `| jq` sees data only.
 */

/** PROTOCOL.md v1.1: a page holds 1 to 1,000 items. The CLI asks for full pages and pages on with `next`. */
export const MAX_PAGE = 1000;
/** `history` without `--since`: this many latest events, as the server's own default page. */
export const DEFAULT_LATEST = 100;

export interface ServerApiOptions {
  sourceUrl?: string;
}

interface EventsPage {
  events: Record<string, unknown>[];
  recovered: boolean;
  next: string | null;
}

/** GET or POST a server-API path; a refusal is the CliError of its status (auth 3, input 2, else 1). */
async function call<T>(what: string, method: 'GET' | 'POST', path: string, query: Record<string, string | number | undefined>, options: ServerApiOptions, deps: CliDeps): Promise<T> {
  const url = endpoint(sourceUrl(options.sourceUrl, deps), path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  const response = await sourceRequest(method, url, deps);
  const text = await response.text();
  if (!response.ok) throw httpError(what, response.status, text, keyHint(response.status, deps));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${what} failed: ${url.origin} answered ${response.status} with something that is not JSON; is --source-url the source-server?`, ExitCode.failed);
  }
}

const line = (value: unknown) => `${JSON.stringify(value)}\n`;

export interface HistoryOptions extends ServerApiOptions {
  since?: string;
  limit?: number;
}

/**
 * `eventrelay history <channel>`: with `--since`, every held event after it,
 * in id order, page after page (`next`) until the end or `--limit`; without,
 * the latest `--limit` (default 100, at most 1,000) in id order.
 */
export async function historyCommand(channel: string, options: HistoryOptions, deps: CliDeps): Promise<void> {
  assertChannelArgument(channel);
  const path = `/v1/channels/${encodeURIComponent(channel)}/events`;
  if (options.since === undefined) {
    const limit = options.limit ?? DEFAULT_LATEST;
    if (limit > MAX_PAGE) throw new CliError(`without --since, --limit is at most ${MAX_PAGE} (the latest page); page further with --since`, ExitCode.usage);
    const page = await call<EventsPage>('history', 'GET', path, { limit }, options, deps);
    for (const event of page.events) deps.stdout.write(line(event));
    return;
  }
  let since = options.since;
  let printed = 0;
  let first = true;
  for (;;) {
    const want = options.limit === undefined ? MAX_PAGE : Math.min(MAX_PAGE, options.limit - printed);
    const page = await call<EventsPage>('history', 'GET', path, { since, limit: want }, options, deps);
    if (first && !page.recovered) deps.stderr.write(`eventrelay: warning: ${options.since} is no longer held; events after it may be missing (recovered:false)\n`);
    first = false;
    for (const event of page.events) deps.stdout.write(line(event));
    printed += page.events.length;
    // An empty page cannot have a next (it is the id of the page's last event); a server that says otherwise must not loop us.
    if (page.next === null || page.events.length === 0) return;
    if (options.limit !== undefined && printed >= options.limit) {
      deps.stderr.write(`eventrelay: stopped after ${printed} events (--limit); more follow: --since ${page.next}\n`);
      return;
    }
    since = page.next;
  }
}

export interface ChannelsOptions extends ServerApiOptions {
  prefix?: string;
}

/** `eventrelay channels [--prefix P]`: every channel with a subscriber anywhere, `{"channel","subscribers"}` per line, by name. */
export async function channelsCommand(options: ChannelsOptions, deps: CliDeps): Promise<void> {
  let after: string | undefined;
  let count = 0;
  do {
    const page = await call<{ channels: unknown[]; next: string | null }>('channels', 'GET', '/v1/channels', { prefix: options.prefix, after, limit: MAX_PAGE }, options, deps);
    for (const entry of page.channels) deps.stdout.write(line(entry));
    count += page.channels.length;
    after = page.next ?? undefined;
  } while (after !== undefined);
  if (count === 0) deps.stderr.write(`eventrelay: no channel${options.prefix ? ` starting with "${options.prefix}"` : ''} has a subscriber right now\n`);
}

/** `eventrelay presence <channel>`: one `{"user","info","connections"}` line per member, the count on stderr. */
export async function presenceCommand(channel: string, options: ServerApiOptions, deps: CliDeps): Promise<void> {
  assertChannelArgument(channel);
  const body = await call<{ count: number; members: unknown[]; truncated?: boolean }>('presence', 'GET', `/v1/channels/${encodeURIComponent(channel)}/presence`, {}, options, deps);
  for (const member of body.members) deps.stdout.write(line(member));
  const shown = body.truncated ? ` (the first ${body.members.length} listed)` : '';
  deps.stderr.write(`eventrelay: ${body.count} user${body.count === 1 ? '' : 's'} present in ${channel}${shown}\n`);
}

/** `eventrelay disconnect <user>`: closes every connection of that token `sub` with 4003; prints `{"user"}`. */
export async function disconnectCommand(user: string, options: ServerApiOptions, deps: CliDeps): Promise<void> {
  if (user.trim() === '') throw new CliError('name the user to disconnect: the "sub" of their token', ExitCode.usage);
  const body = await call<{ user: string }>('disconnect', 'POST', `/v1/users/${encodeURIComponent(user)}/disconnect`, {}, options, deps);
  deps.stdout.write(line(body));
  deps.stderr.write(`eventrelay: every connection of ${user}, on every client-server, is being closed with 4003; their token is not revoked\n`);
}
