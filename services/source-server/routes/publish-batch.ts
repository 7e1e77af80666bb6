import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../../runtime/config/schema.js';
import { jsonText, parseJson } from '../plugins/json-body.js';
import { batchBodyLimit, batchEvents } from './batch-body.js';
import type { Publisher } from '../publisher.js';

export interface PublishBatchDeps {
  config: Pick<Config, 'maxBatchEvents' | 'maxEventBytes'>;
  publisher: Publisher;
  /** Runs before the body is read: receive time, auth, draining. */
  onRequest: onRequestHookHandler[];
}

export interface BatchResult {
  channel: string;
  id: string;
  replayed?: true;
}

/** PROTOCOL.md `POST /v1/events`: validated as a whole, stored by one all-or-nothing bus publish. */
export function registerPublishBatch(app: FastifyInstance, { config, publisher, onRequest }: PublishBatchDeps): void {
  app.post('/v1/events', { bodyLimit: batchBodyLimit(config), onRequest }, async (request) => {
    const events = batchEvents(parseJson(jsonText(request)), publisher.receivedAt(request), config);
    const results = await publisher.publish(request, events);
    return {
      results: results.map(({ channel, id, replayed }): BatchResult => (replayed ? { channel, id, replayed: true } : { channel, id })),
    };
  });
}
