/**
 * Pusher's error and close codes (pusher/docs
 * `library_auth_reference/pusher-websockets-protocol.md`, "Error Codes"),
 * and what pusher-js 8 does on each close (`protocol.ts getCloseAction`):
 * 4000-4099 and anything from 4300 make it give up for good, 4100-4199
 * reconnect after a second, 4200-4299 reconnect at once. eventrelay's own
 * close codes (4001, 4003, 4008, 4029) are all in the give-up range, so the
 * Pusher endpoint never uses them: a per-subscription or per-event problem is
 * a message and the socket stays.
 */
export const PusherCode = {
  appNotFound: 4001,
  appDisabled: 4003,
  overQuota: 4004,
  invalidVersion: 4006,
  unsupportedVersion: 4007,
  noVersion: 4008,
  /** Also terminate_connections: pusher-js then stays disconnected instead of signing in again at once. */
  unauthorized: 4009,
  /** Over capacity: pusher-js waits a second (slow consumer, refused while draining, too many from one address). */
  overCapacity: 4100,
  /** Reconnect now: the drain of a client-server that is shutting down. */
  reconnect: 4200,
  pongTimeout: 4201,
  /** Only ever a `pusher:error` message: as a close, pusher-js would give up. */
  clientEventRejected: 4301,
} as const;

/** The protocol versions pusher-js has spoken (8.x sends 7); older ones differ only in what clients expect of closes. */
export const MIN_PROTOCOL = 5;
export const MAX_PROTOCOL = 7;

/** Why a connection cannot go on, as the close code and the `pusher:error` sent before it. */
export interface PusherRefusal {
  code: number;
  message: string;
}

/** Checks `?protocol=` the way Pusher's table orders it: missing 4008, not an integer 4006, unsupported 4007. */
export function protocolRefusal(protocol: string | undefined): PusherRefusal | undefined {
  if (protocol === undefined || protocol === '') return { code: PusherCode.noVersion, message: 'No protocol version supplied' };
  if (!/^\d{1,3}$/.test(protocol)) return { code: PusherCode.invalidVersion, message: 'Invalid version string format' };
  const version = Number(protocol);
  if (version < MIN_PROTOCOL || version > MAX_PROTOCOL) return { code: PusherCode.unsupportedVersion, message: `Unsupported protocol version ${version}` };
  return undefined;
}
