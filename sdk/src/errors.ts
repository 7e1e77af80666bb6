import type { RelayErrorInfo } from './types.js';

/**
 * A failure the SDK reports by throwing or rejecting: a local misuse (bad
 * channel name, duplicate subscribe, closed client) or a coded server answer
 * (a publish refused with `forbidden`). `code` is from PROTOCOL.md, or one of
 * the SDK's own: `closed`, `connection_lost`, `no_websocket`, `disconnected`.
 */
export class EventRelayError extends Error {
  declare readonly channel?: string;
  declare readonly ref?: string;
  declare readonly closeCode?: number;
  declare readonly status?: number;

  constructor(
    readonly code: string,
    message: string,
    details: Omit<RelayErrorInfo, 'code' | 'message'> = {},
  ) {
    super(message);
    this.name = 'EventRelayError';
    if (details.channel !== undefined) this.channel = details.channel;
    if (details.ref !== undefined) this.ref = details.ref;
    if (details.closeCode !== undefined) this.closeCode = details.closeCode;
    if (details.status !== undefined) this.status = details.status;
  }
}
