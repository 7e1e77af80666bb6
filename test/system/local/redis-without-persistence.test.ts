import { afterAll, beforeAll, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { startLocalStack } from '../../support/local-stack.js';
import { RetryingPublisher } from '../../support/publisher.js';
import { ResumingSubscriber, deliveryReport } from '../../support/resuming-subscriber.js';
import type { Stack } from '../../support/stack.js';

/** Local only: the compose stack runs Redis with AOF. */
let stack: Stack;
beforeAll(async () => {
  stack = await startLocalStack({ persistence: 'none' });
}, 60_000);
afterAll(async () => stack?.stop());

test('a Redis restart without persistence: a subscriber whose gap spans it is told recovered:false, and nobody has a silent gap', async () => {
  const wsUrls = stack.clientUrls.map((u) => `${u.replace(/^http/, 'ws')}/v1/ws`);
  const token = signSubscriberToken(stack.jwtSecret, { channels: ['*'] });
  const ch = `nopersist:${Date.now()}`;
  const publisher = new RetryingPublisher(stack.sourceUrl, stack.publisherKey, ch);
  const subscribers = Array.from({ length: 4 }, (_, i) => new ResumingSubscriber(wsUrls, token, ch, i));
  await Promise.all(subscribers.map((s) => s.start()));
  const offline = subscribers[0]!;
  await publisher.publishMany(120, 100, async (i) => {
    if (i === 30) offline.pause();
    if (i === 60) await stack.restartRedis();
    if (i === 90) offline.resume();
  });
  const ack = publisher.acknowledged;
  const deadline = Date.now() + 15_000;
  while (!subscribers.every((s) => s.lastId === ack.at(-1)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  subscribers.forEach((s) => s.stop());

  // The subscriber that was offline across the restart resumed with a since that Redis no longer holds.
  expect(offline.recoveredFlags).toContain(false);
  for (const s of subscribers) {
    const report = deliveryReport(ack, s.received);
    expect(report.duplicated).toBe(0);
    expect(report.outOfOrder).toBe(0);
    // Never a silent gap: whoever lost an acknowledged event was told recovered:false.
    if (report.lost > 0) expect(s.recoveredFlags).toContain(false);
  }
}, 60_000);
