import type { FastifyInstance } from 'fastify';
import { registerChannelEvents } from './channel-events.js';
import { registerChannelReads } from './channels.js';
import type { ServerApiDeps } from './server-api-deps.js';
import { registerUserDisconnect } from './user-disconnect.js';

/**
 * PROTOCOL.md v1.1 Server API: history pages, channel stats, presence and
 * disconnects, with the publisher key. While draining the reads keep being
 * answered: they change nothing, are short, and readiness has already
 * turned new traffic away, so refusing them would only fail a console that
 * reached this instance in the drain window. The disconnect is a write and is
 * refused (503) like a publish.
 */
export function registerServerApi(app: FastifyInstance, deps: ServerApiDeps): void {
  registerChannelEvents(app, deps);
  registerChannelReads(app, deps);
  registerUserDisconnect(app, deps);
}
