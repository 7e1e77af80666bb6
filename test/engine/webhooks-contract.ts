import { describe } from 'vitest';
import { deliveryCases } from './webhooks-delivery-cases.js';
import { harness, type WorldFactory } from './webhooks-harness.js';
import { retryCases } from './webhooks-retry-cases.js';

export { FAST, WEBHOOK_SECRET, type WebhookWorld, type WorldFactory } from './webhooks-harness.js';

/** Webhook delivery every broker must give (PROTOCOL.md v1.1 Webhooks); run by webhooks-memory.test.ts and webhooks-redis.test.ts. */
export function webhooksContract(name: string, makeWorld: WorldFactory): void {
  describe(`webhooks on ${name}`, () => {
    const h = harness(makeWorld);
    deliveryCases(h);
    retryCases(h);
  });
}
