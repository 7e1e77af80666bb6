import { CliError, ExitCode } from './exit-codes.js';
import { CHANNEL_PATTERN } from './relay.js';

/** Checked before anything is sent: a bad name is the user's input error (exit 2), not a server error. */
export function assertChannelArgument(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) {
    throw new CliError(`"${channel}" is not a channel name: 1-128 of A-Z a-z 0-9 _ - . : (PROTOCOL.md)`, ExitCode.usage);
  }
}
