import { EventRelayError } from './errors.js';

/** PROTOCOL.md channel names; checked here so that a typo fails at the call, not in a server reply. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:]{1,128}$/;

export function assertChannel(channel: string): void {
  if (typeof channel !== 'string' || !CHANNEL_PATTERN.test(channel)) {
    throw new EventRelayError('invalid_channel', `"${String(channel)}" is not a channel name (1-128 of A-Z a-z 0-9 _ - . :).`, { channel: String(channel) });
  }
}
