import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { OutgoingEvent } from '../../engine/bus.js';
import { assertChannel } from '../../protocol/channel.js';
import type { Config } from '../../runtime/config/schema.js';
import type { PublisherAuth } from '../plugins/auth.js';
import { eventDataText, jsonText } from '../plugins/json-body.js';
import { idempotencyKeyHeader } from './idempotency-key.js';
import type { Publisher } from '../publisher.js';

export interface PublishOneDeps {
  config: Pick<Config, 'maxEventBytes'>;
  publisher: Publisher;
  auth: PublisherAuth;
  /** Runs before the body is read: receive time, auth, draining. */
  onRequest: onRequestHookHandler[];
}

/** PROTOCOL.md `POST /v1/channels/{channel}/events`: the body is the event's data. */
export function registerPublishOne(app: FastifyInstance, { config, publisher, auth, onRequest }: PublishOneDeps): void {
  app.post<{ Params: { channel: string } }>(
    '/v1/channels/:channel/events',
    // The body is exactly the event's data, so the event size limit is the body limit.
    { bodyLimit: config.maxEventBytes, onRequest },
    async (request, reply) => {
      const channel = assertChannel(request.params.channel);
      const idempotencyKey = idempotencyKeyHeader(request.headers['idempotency-key']);
      const data = eventDataText(jsonText(request));
      const ts = publisher.receivedAt(request);
      const event: OutgoingEvent =
        idempotencyKey === undefined ? { channel, data, ts } : { channel, data, ts, idempotencyKey, idempotencyScope: auth.idempotencyScope(request) };
      const [result] = await publisher.publish(request, [event]);
      // publish() checked that there is exactly one result.
      if (result!.replayed) reply.header('idempotent-replayed', 'true');
      return { channel, id: result!.id };
    },
  );
}
