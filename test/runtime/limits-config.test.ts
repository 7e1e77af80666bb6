import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';

describe('limit variables', () => {
  test('have defaults that protect a production server, and publish rate limiting is off', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      maxConnectionsPerIp: 1000,
      maxClientMessagesPerSecond: 100,
      clientMessagesBurst: 1000,
      publishRateLimit: 0,
      publishRateWindowSeconds: 10,
      // PROTOCOL.md v1.1: MAX_EVENT_BYTES + 16 KiB, so a client publish of the largest data fits.
      maxFrameBytes: 64 * 1024 + 16 * 1024,
      maxSubscriptionsPerConnection: 1000,
    });
  });

  test('malformed values stop the service at start, each named', () => {
    let error: unknown;
    try {
      loadConfig({ MAX_CONNECTIONS_PER_IP: '-1', MAX_CLIENT_MESSAGES_PER_SECOND: 'lots', CLIENT_MESSAGES_BURST: '0', PUBLISH_RATE_LIMIT: '1e3', PUBLISH_RATE_WINDOW_SECONDS: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['MAX_CONNECTIONS_PER_IP', 'MAX_CLIENT_MESSAGES_PER_SECOND', 'CLIENT_MESSAGES_BURST', 'PUBLISH_RATE_LIMIT', 'PUBLISH_RATE_WINDOW_SECONDS']) {
      expect(problems).toContain(name);
    }
  });

  test('the frame limit follows MAX_EVENT_BYTES unless set itself', () => {
    expect(loadConfig({ MAX_EVENT_BYTES: '1000' }).maxFrameBytes).toBe(1000 + 16 * 1024);
    expect(loadConfig({ MAX_EVENT_BYTES: '1000', MAX_FRAME_BYTES: '2048' }).maxFrameBytes).toBe(2048);
  });

  test('0 turns the connection and message limits off; fractional publish rates are allowed', () => {
    expect(loadConfig({ MAX_CONNECTIONS_PER_IP: '0', MAX_CLIENT_MESSAGES_PER_SECOND: '0', PUBLISH_RATE_LIMIT: '0.5' })).toMatchObject({
      maxConnectionsPerIp: 0,
      maxClientMessagesPerSecond: 0,
      publishRateLimit: 0.5,
    });
  });
});
