import type { Logger } from 'pino';
import type { Bus } from '../../engine/bus.js';
import type { Presence } from '../../engine/presence.js';
import type { Config } from '../../runtime/config/schema.js';
import type { ClientMetrics as Metrics } from '../client-metrics.js';
import type { Hub } from '../hub.js';
import type { WriteBatcher } from '../transports/ws/write-batcher.js';
import type { PusherPresenceRooms } from './presence-room.js';
import type { SignedInUsers } from './signed-in-users.js';

/** What every Pusher socket of one client-server shares. */
export interface PusherContext {
  config: Pick<Config, 'maxBufferedBytes' | 'maxSubscriptionsPerConnection' | 'maxClientMessagesPerSecond' | 'clientMessagesBurst'>;
  hub: Hub;
  bus: Pick<Bus, 'publish' | 'latest' | 'ids'>;
  presence: Pick<Presence, 'join' | 'leave'>;
  rooms: PusherPresenceRooms;
  users: SignedInUsers;
  metrics: Metrics;
  logger: Logger;
  /** The Pusher sockets' writes, coalesced per socket per event-loop turn (as the native WebSocket's). */
  writes: WriteBatcher;
  now: () => number;
  /** Reports a cache channel's miss for the `cache_miss` webhook (deduplicated: cache-misses.ts). */
  cacheMiss(native: string): void;
}
