import { RelayError } from './errors.js';

/** PROTOCOL.md: a channel name. `:` separates namespaces by convention. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_\-.:]{1,128}$/;

export function isValidChannel(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL_PATTERN.test(value);
}

export function invalidChannel(value: unknown, index?: number): RelayError {
  return new RelayError('invalid_channel', undefined, { index, ...(typeof value === 'string' ? { channel: value } : {}) });
}

export function assertChannel(value: unknown): string {
  if (!isValidChannel(value)) throw invalidChannel(value);
  return value;
}
