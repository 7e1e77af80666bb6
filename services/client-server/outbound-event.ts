import type { BusEvent } from '../engine/bus.js';

/** An event as Pusher sockets receive it: built once, then checked per socket against `skip`. */
export interface PusherWire {
  /** The WebSocket text frame of the Pusher message. */
  frame: Buffer;
  /** The socket that must not get it: the HTTP API's `socket_id`, a client event's sender. */
  skip?: string;
  /** A client event (never replayed as a cache channel's last event). */
  client: boolean;
}

/**
 * One event on its way out of this client-server, shared by every local
 * subscriber of its channel. The transports build their wire forms from it
 * once, on the first subscriber that needs them, and leave them in `wire`
 * for every other one: a broadcast to 10,000 sockets encodes once.
 */
export class OutboundEvent {
  /**
   * Each transport's bytes for this event, built lazily (transports/ws,
   * transports/sse, pusher/pusher-frame.ts). The Pusher form is the whole WebSocket
   * frame plus the socket it must skip (null: not for Pusher clients);
   * `deflated`: compressed WebSocket frames by window bits (ws-deflate.ts).
   */
  readonly wire: { ws?: Buffer; sse?: Buffer; pusher?: PusherWire | null; deflated?: Record<number, Buffer> } = {};

  constructor(readonly event: BusEvent) {}

  get channel(): string {
    return this.event.channel;
  }

  get id(): string {
    return this.event.id;
  }

  /** The id's position under the bus's `ids.compare`. */
  get position(): unknown {
    return this.event.position;
  }
}
