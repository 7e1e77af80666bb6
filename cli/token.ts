import type { CliDeps } from './deps.js';
import { parseDuration } from './duration.js';
import { CliError, ExitCode } from './exit-codes.js';
import { MIN_SECRET_LENGTH, signSubscriberToken } from './jwt.js';

/** Channel patterns as PROTOCOL.md allows them in the `channels` claim: names plus `*`. */
const PATTERN = /^[A-Za-z0-9_\-.:*]{1,128}$/;

export interface TokenOptions {
  channels: string;
  ttl: string;
  sub?: string;
  publish?: string;
  presence?: string;
}

/** `eventrelay token`: mints a development subscriber JWT from SUBSCRIBER_JWT_SECRET. */
export function tokenCommand(options: TokenOptions, deps: CliDeps): void {
  const secret = requireSecret(deps);
  const channels = patterns('--channels', options.channels);
  if (channels.length === 0) throw new CliError('--channels needs at least one channel pattern, e.g. "news,orders:*"', ExitCode.usage);
  const publish = options.publish === undefined ? undefined : patterns('--publish', options.publish);
  const presence = options.presence === undefined ? undefined : patterns('--presence', options.presence);
  // The server refuses presence to a token without sub: say so now rather than at the subscribe.
  if (presence?.length && options.sub === undefined) throw new CliError('--presence needs --sub: presence lists users by their token sub', ExitCode.usage);
  const token = signSubscriberToken(secret, { channels, ttlSeconds: parseDuration(options.ttl), sub: options.sub, publish, presence });
  deps.stdout.write(`${token}\n`);
}

/** A comma-separated list of channel patterns, each checked. */
function patterns(option: string, text: string): string[] {
  const list = text.split(',').map((c) => c.trim()).filter(Boolean);
  for (const pattern of list) {
    if (!PATTERN.test(pattern)) throw new CliError(`${option}: "${pattern}" is not a channel pattern (1-128 of A-Z a-z 0-9 _ - . : and *)`, ExitCode.usage);
  }
  return list;
}

export function requireSecret(deps: CliDeps): string {
  const secret = deps.env.SUBSCRIBER_JWT_SECRET;
  if (!secret) {
    throw new CliError(`SUBSCRIBER_JWT_SECRET is not set: export the secret your client-server uses (at least ${MIN_SECRET_LENGTH} characters)`, ExitCode.usage);
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new CliError(`SUBSCRIBER_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters, like the client-server requires`, ExitCode.usage);
  }
  return secret;
}
