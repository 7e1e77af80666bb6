import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.js';
import type { Config } from '../../runtime/config/schema.js';
import type { SourceMetrics as Metrics } from '../source-metrics.js';
import type { Publisher } from '../publisher.js';
import type { ChannelInfo } from './channel-info.js';

/** What the Pusher HTTP API is built from (registerPusherApi). */
export interface PusherApiDeps {
  config: Pick<Config, 'pusherApps' | 'maxEventBytes'>;
  engine: Pick<Engine, 'bus' | 'channels' | 'presence' | 'control'>;
  publisher: Publisher;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

/** What its routes get: the same, plus the channel counts. */
export type PusherRouteDeps = PusherApiDeps & { info: ChannelInfo };
