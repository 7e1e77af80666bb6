import type { Logger } from 'pino';
import type { Bus } from './bus/bus.js';
import type { Config } from './config.js';
import type { Lifecycle } from './lifecycle.js';
import type { Metrics } from './metrics.js';

/**
 * What every app is built from: one config, one logger and one bus per
 * process, handed down (the embedded mode hands the same ones to both apps).
 * The caller creates the bus and closes it after the app.
 */
export interface AppDeps {
  config: Config;
  /** Becomes fastify's logger: request logs at info, per-event lines at debug only. */
  logger: Logger;
  bus: Bus;
  /** Default: a new registry for this app. */
  metrics?: Metrics;
  /** Default: a new Lifecycle; main drains through it. */
  lifecycle?: Lifecycle;
  /** Wall clock (event `ts`, token expiry); injected for tests. Default Date.now. */
  now?: () => number;
}
