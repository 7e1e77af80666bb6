import type { BusEvent } from '../engine/bus.js';

/**
 * One event on its way out of this client-server, shared by every local
 * subscriber of its channel. The transports build their wire forms from it
 * once, on the first subscriber that needs them, and leave them in `wire`
 * for every other one: a broadcast to 10,000 sockets encodes once.
 */
export class OutboundEvent {
  /** Each transport's bytes for this event, built lazily (transports/ws, transports/sse); `deflated`: compressed WebSocket frames by window bits (ws-deflate.ts). */
  readonly wire: { ws?: Buffer; sse?: Buffer; deflated?: Record<number, Buffer> } = {};

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
