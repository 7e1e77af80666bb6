import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { webhookBody } from '../../services/engine/webhooks/delivery.js';
import { signatureHeader } from '../../services/engine/webhooks/signature.js';
import { WEBHOOK_TIMING, retryDelayMs } from '../../services/engine/webhooks/timing.js';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';

describe('webhook pieces', () => {
  test('the retry schedule starts within 10 s and doubles up to 5 minutes, jitter only ever shortening it', () => {
    const at = (attempts: number, random: number) => retryDelayMs(attempts, WEBHOOK_TIMING, () => random);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20, 100].map((n) => at(n, 0))).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
    for (let n = 1; n < 12; n++) {
      expect(at(n, 0.999)).toBeGreaterThanOrEqual(at(n, 0) * 0.8);
      expect(at(n, 0.999)).toBeLessThanOrEqual(at(n, 0));
    }
    expect(at(1, 0)).toBeLessThanOrEqual(10_000);
  });

  test('the signature is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">', () => {
    const body = '{"id":"w1","time":1,"events":[]}';
    const header = signatureHeader('k'.repeat(32), body, 1_732_450_000_999);
    const expected = createHmac('sha256', 'k'.repeat(32)).update(`1732450000.${body}`).digest('hex');
    expect(header).toBe(`t=1732450000,v1=${expected}`);
  });

  test('the body splices the transitions\' JSON in as it is', () => {
    const events = ['{"kind":"channel.occupied","channel":"a","time":5}', '{"kind":"client.publish","channel":"a","time":6,"id":"6-0","publisher":"u","data":12345678901234567890}'];
    expect(webhookBody({ id: 'w"1', time: 7, events })).toBe(`{"id":"w\\"1","time":7,"events":[${events.join(',')}]}`);
  });

  test('WEBHOOK_GIVE_UP_SECONDS defaults to a day, and a bad value stops the start naming it', () => {
    expect(loadConfig({}).webhookGiveUpSeconds).toBe(86_400);
    expect(loadConfig({ WEBHOOK_GIVE_UP_SECONDS: '3600' }).webhookGiveUpSeconds).toBe(3600);
    expect(() => loadConfig({ WEBHOOK_GIVE_UP_SECONDS: 'forever' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_GIVE_UP_SECONDS: '0' })).toThrow(/WEBHOOK_GIVE_UP_SECONDS/);
  });
});
