import type { FastifyInstance } from 'fastify';
import { drainingError, RelayError } from '../../../protocol/errors.js';
import type { ServerApiDeps } from './server-api-deps.js';

/**
 * PROTOCOL.md v1.1 `POST /v1/users/{user}/disconnect`: answered once the
 * command is stored on the bus and published to every client-server
 * subscribed to it (Control.send); each closes that user's connections with
 * 4003. A write, so refused while draining like a publish.
 */
export function registerUserDisconnect(app: FastifyInstance, { engine, lifecycle, onRequest }: ServerApiDeps): void {
  app.post<{ Params: { user: string } }>('/v1/users/:user/disconnect', { onRequest }, async (request) => {
    const { user } = request.params;
    if (user === '') throw new RelayError('invalid_request', 'Name the user: POST /v1/users/{user}/disconnect, {user} being the token "sub".');
    if (lifecycle.isDraining) throw drainingError();
    await lifecycle.track(() => engine.control.send({ type: 'disconnect', user }));
    // An operator action: worth a line at info, for whoever asks later why a user was cut off.
    request.log.info({ user }, 'disconnect requested');
    return { user };
  });
}
