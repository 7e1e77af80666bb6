import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../../runtime/config/schema.js';
import type { PublisherAuth } from '../plugins/auth.js';
import { jsonText } from '../plugins/json-body.js';
import { batchBodyLimit, batchEvents } from './batch-body.js';
import type { Publisher } from '../publisher.js';

export interface PublishBatchDeps {
  config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>;
  publisher: Publisher;
  auth: PublisherAuth;
  /** Runs before the body is read: receive time, auth, draining. */
  onRequest: onRequestHookHandler[];
}

export interface BatchResult {
  channel: string;
  id: string;
  replayed?: true;
}

/** PROTOCOL.md `POST /v1/events`: validated as a whole, stored by one all-or-nothing bus publish. */
export function registerPublishBatch(app: FastifyInstance, { config, publisher, auth, onRequest }: PublishBatchDeps): void {
  app.post('/v1/events', { bodyLimit: batchBodyLimit(config), onRequest }, async (request) => {
    const context = { ts: publisher.receivedAt(request), idempotencyScope: auth.idempotencyScope(request) };
    const events = batchEvents(jsonText(request), context, config);
    const results = await publisher.publish(request, events);
    return {
      results: results.map(({ channel, id, replayed }): BatchResult => (replayed ? { channel, id, replayed: true } : { channel, id })),
    };
  });
}
