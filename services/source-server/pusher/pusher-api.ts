import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isRelayError } from '../../protocol/errors.js';
import type { PusherApiDeps } from './api-deps.js';
import { ChannelInfo } from './channel-info.js';
import { registerEventRoutes } from './event-routes.js';
import { PusherHttpError } from './pusher-http-error.js';
import { registerQueryRoutes } from './query-routes.js';
import { verifySignedRequest } from './signed-request.js';

export type { PusherApiDeps } from './api-deps.js';


/**
 * The Pusher Channels HTTP API (pusher/docs `rest-api.md`) under `/apps/{id}/`
 * on the source-server, so that every `pusher` server SDK works unchanged
 * (docs/pusher.md). Every request is signed with the app's secret and
 * checked before its route runs. Triggers are stored through the same
 * Publisher as native publishes (history, ids, drain tracking), on the
 * native channel `pusher:<id>:<name>`. Errors are Pusher's: a status and a
 * plain-text sentence.
 */
export function registerPusherApi(app: FastifyInstance, deps: PusherApiDeps): void {
  const apps = new Map(deps.config.pusherApps.map((a) => [a.id, a] as const));
  // An encapsulated context: its error handler and hooks are the Pusher API's only.
  void app.register(async (api) => {
    api.setErrorHandler((error: FastifyError, request, reply) => {
      const answer = pusherAnswer(error);
      deps.metrics.errors.inc({ code: `pusher_http_${answer.status}` });
      if (answer.status >= 500) request.log.error({ err: error }, 'pusher API error');
      else request.log.debug({ status: answer.status }, answer.message);
      return sendText(reply, answer.status, answer.message);
    });
    api.addHook('onRequest', async (request) => {
      deps.publisher.markReceived(request);
    });
    // After the body is read: body_md5 covers it.
    api.addHook('preHandler', async (request) => {
      request.pusherApp = verifySignedRequest(request, apps, deps.now());
    });
    const info = new ChannelInfo(deps.engine);
    registerEventRoutes(api, { ...deps, info });
    registerQueryRoutes(api, { ...deps, info });
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Pusher app a signed `/apps/{id}/…` request was verified for. */
    pusherApp?: import('../../runtime/config/pusher-apps.js').PusherApp;
  }
}

export function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(`${text}\n`);
}

function pusherAnswer(error: FastifyError | Error): { status: number; message: string } {
  if (error instanceof PusherHttpError) return { status: error.status, message: error.message };
  if (isRelayError(error)) {
    // Draining (503 with Retry-After is the native answer too) or the store unreachable.
    return { status: error.status, message: error.message };
  }
  const fe = error as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, message: 'Request body too large' };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, message: 'Send the body as application/json' };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return { status: fe.statusCode, message: error.message };
  return { status: 500, message: 'Internal error' };
}
