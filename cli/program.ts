import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliDeps } from './deps.js';
import { CliError, ExitCode, type ExitCodeValue } from './exit-codes.js';
import { publishCommand } from './publish.js';
import { publishBatchCommand } from './publish-batch.js';
import { channelsCommand, disconnectCommand, historyCommand, presenceCommand } from './server-api.js';
import { tailCommand } from './tail.js';
import { tokenCommand } from './token.js';
import { CLI_VERSION } from './version.js';

/** Adds one subcommand to the program; its action resolves with an exit code or throws a CliError. */
type CommandDefinition = (program: Command, deps: CliDeps, exit: (code: ExitCodeValue) => void) => void;

const SOURCE_URL_HELP = 'source-server address, a path prefix is kept (env EVENTRELAY_SOURCE_URL, default http://localhost:8080)';

const publish: CommandDefinition = (program, deps) =>
  program
    .command('publish')
    .description('publish one event: data is JSON text, @file, or - for stdin')
    .argument('<channel>')
    .argument('<data>', 'JSON, @path/to/file.json, or - to read stdin')
    .option('--source-url <url>', SOURCE_URL_HELP)
    .option('--idempotency-key <key>', 'retries with the same key store one event (a retry prints "replayed":true)')
    .addHelpText('after', '\nThe publisher key is read from EVENTRELAY_PUBLISHER_KEY.')
    .action((channel: string, data: string, options: { sourceUrl?: string; idempotencyKey?: string }) => publishCommand(channel, data, options, deps));

const publishBatch: CommandDefinition = (program, deps) =>
  program
    .command('publish-batch')
    .description('publish several events at once: {"events":[{"channel","data"[,"idempotencyKey"]}, ...]} or a JSON array')
    .argument('<events>', 'JSON, @path/to/file.json, or - to read stdin')
    .option('--source-url <url>', SOURCE_URL_HELP)
    .addHelpText('after', '\nPrints one {"channel","id"} line per event, in order. The publisher key is read from EVENTRELAY_PUBLISHER_KEY.')
    .action((events: string, options: { sourceUrl?: string }) => publishBatchCommand(events, options, deps));

const tail: CommandDefinition = (program, deps, exit) =>
  program
    .command('tail')
    .description('print the events of a channel as JSON lines; reconnects and resumes')
    .argument('<channel>')
    .option('--since <id>', 'start after this event id')
    .option('--client-url <url>', 'client-server address, a path prefix is kept (env EVENTRELAY_CLIENT_URL, default http://localhost:8081)')
    .option('--limit <n>', 'exit after n events', positiveInt)
    .addHelpText('after', '\nToken: EVENTRELAY_TOKEN, else one minted from SUBSCRIBER_JWT_SECRET, else none (auth disabled).')
    .action(async (channel: string, options: { since?: string; clientUrl?: string; limit?: number }) => exit(await tailCommand(channel, options, deps)));

const token: CommandDefinition = (program, deps) =>
  program
    .command('token')
    .description('mint a development subscriber JWT from SUBSCRIBER_JWT_SECRET')
    .requiredOption('--channels <patterns>', "comma separated channel patterns, e.g. 'news,orders:*'")
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h, 7d', '1h')
    .option('--sub <subject>', 'the sub claim: the user id presence and disconnect use')
    .option('--publish <patterns>', 'channels the token may publish to over its WebSocket (v1.1)')
    .option('--presence <patterns>', 'channels where it may join presence; needs --sub (v1.1)')
    .action((options: { channels: string; ttl: string; sub?: string; publish?: string; presence?: string }) => tokenCommand(options, deps));

const KEY_HELP = '\nThe publisher key is read from EVENTRELAY_PUBLISHER_KEY.';

const history: CommandDefinition = (program, deps) =>
  program
    .command('history')
    .description("print a channel's stored events as JSON lines, in id order")
    .argument('<channel>')
    .option('--since <id>', 'every held event after this id, page after page')
    .option('--limit <n>', 'at most n events (without --since: the latest n, default 100, at most 1000)', positiveInt)
    .option('--source-url <url>', SOURCE_URL_HELP)
    .addHelpText('after', KEY_HELP)
    .action((channel: string, options: { since?: string; limit?: number; sourceUrl?: string }) => historyCommand(channel, options, deps));

const channels: CommandDefinition = (program, deps) =>
  program
    .command('channels')
    .description('list the channels that have a subscriber anywhere, with their counts (JSON lines)')
    .option('--prefix <prefix>', 'only channels whose name starts with this')
    .option('--source-url <url>', SOURCE_URL_HELP)
    .addHelpText('after', KEY_HELP)
    .action((options: { prefix?: string; sourceUrl?: string }) => channelsCommand(options, deps));

const presence: CommandDefinition = (program, deps) =>
  program
    .command('presence')
    .description("list a channel's present users: user, info, connections (JSON lines)")
    .argument('<channel>')
    .option('--source-url <url>', SOURCE_URL_HELP)
    .addHelpText('after', KEY_HELP)
    .action((channel: string, options: { sourceUrl?: string }) => presenceCommand(channel, options, deps));

const disconnect: CommandDefinition = (program, deps) =>
  program
    .command('disconnect')
    .description('close every connection of a user (their token sub) with 4003, on every client-server')
    .argument('<user>')
    .option('--source-url <url>', SOURCE_URL_HELP)
    .addHelpText('after', `${KEY_HELP} The token is not revoked: a client may connect again with a new one.`)
    .action((user: string, options: { sourceUrl?: string }) => disconnectCommand(user, options, deps));

/** Every subcommand, in the order `--help` lists them: publishing, reading live, the server API (PROTOCOL.md v1.1), tokens. */
const COMMANDS: readonly CommandDefinition[] = [publish, publishBatch, tail, history, channels, presence, disconnect, token];

/** Runs `eventrelay <args>` and resolves with the exit code; never calls process.exit. */
export async function runCli(args: readonly string[], deps: CliDeps): Promise<ExitCodeValue> {
  let code: ExitCodeValue = ExitCode.ok;
  const program = new Command('eventrelay')
    .description('Publish to, tail, inspect and mint tokens for an eventrelay stack.')
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void deps.stdout.write(s), writeErr: (s) => void deps.stderr.write(s) })
    .showHelpAfterError('(run eventrelay --help for usage)');
  for (const define of COMMANDS) define(program, deps, (c) => (code = c));

  try {
    await program.parseAsync([...args], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other commander error is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof CliError) {
      deps.stderr.write(`eventrelay: ${err.message}\n`);
      return err.exitCode;
    }
    deps.stderr.write(`eventrelay: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.failed;
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1.');
  return n;
}
