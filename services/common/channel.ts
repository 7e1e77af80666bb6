import { RelayError } from './errors.js';

/** PROTOCOL.md: a channel name. `:` separates namespaces by convention. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:]{1,128}$/;

export function isValidChannel(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL_PATTERN.test(value);
}

export function assertChannel(value: unknown): string {
  if (!isValidChannel(value)) {
    throw new RelayError(
      'invalid_channel',
      'A channel name is 1 to 128 characters of A-Z, a-z, 0-9, "_", "-", "." and ":".',
      typeof value === 'string' ? { channel: value } : {},
    );
  }
  return value;
}
