import type { onRequestHookHandler } from 'fastify';
import type { Engine } from '../../../engine/engine.js';
import type { Lifecycle } from '../../../runtime/lifecycle.js';

/** What every server API route is built from. */
export interface ServerApiDeps {
  engine: Pick<Engine, 'bus' | 'channels' | 'presence' | 'control'>;
  /**
   * Every engine call is tracked, so that shutdown waits for the reads in
   * flight before the engine closes; reads go on while draining (server-api.ts).
   */
  lifecycle: Lifecycle;
  /** Publisher authentication; no drain check: reads keep serving while draining. */
  onRequest: onRequestHookHandler[];
}
