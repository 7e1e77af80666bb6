import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';
import { DEFAULT_HISTORY_SIZE, DEFAULT_MAX_EVENT_BYTES, type Config } from '../../services/runtime/config/schema.js';
import { clientCredentialProblems } from '../../services/client-server/app.js';
import { sourceCredentialProblems } from '../../services/source-server/app.js';

/** The first credential problem that stops `service` from starting (each app states its own). */
function missingCredentials(config: Config, service: 'source-server' | 'client-server'): string | undefined {
  return (service === 'source-server' ? sourceCredentialProblems : clientCredentialProblems)(config)[0];
}

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  test('an empty environment gives the PROTOCOL.md defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      sourcePort: 8080,
      clientPort: 8081,
      historySize: DEFAULT_HISTORY_SIZE,
      maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
      allowedOrigins: ['*'],
      authDisabled: false,
      idempotencyTtlSeconds: 86400,
      maxBatchEvents: 1000,
      logLevel: 'info',
      publishAllowedOrigins: [],
    });
    expect(config.redisUrl).toBeUndefined();
    expect(DEFAULT_HISTORY_SIZE).toBe(1000);
    expect(DEFAULT_MAX_EVENT_BYTES).toBe(65536);
  });

  test('every variable of PROTOCOL.md is read', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://:pw@redis:6380',
      SOURCE_PORT: '9000',
      CLIENT_PORT: '9001',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      PUBLISHER_KEYS: 'key-aaaaaaaaaaaaaaaa, key-bbbbbbbbbbbbbbbb',
      SUBSCRIBER_JWT_SECRET: 's'.repeat(32),
      AUTH_DISABLED: 'true',
      HISTORY_SIZE: '50',
      HISTORY_TTL_SECONDS: '0',
      MAX_EVENT_BYTES: '1024',
      ALLOWED_ORIGINS: 'https://a.example.com,http://localhost:3000',
    });
    expect(config).toMatchObject({
      redisUrl: 'rediss://:pw@redis:6380',
      sourcePort: 9000,
      clientPort: 9001,
      host: '127.0.0.1',
      logLevel: 'debug',
      publisherKeys: ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'],
      subscriberJwtSecret: 's'.repeat(32),
      authDisabled: true,
      historySize: 50,
      historyTtlSeconds: 0,
      maxEventBytes: 1024,
      allowedOrigins: ['https://a.example.com', 'http://localhost:3000'],
    });
  });

  test('malformed values are all reported at once, each naming its variable', () => {
    const found = problems({ SOURCE_PORT: 'eighty', HISTORY_SIZE: '-1', AUTH_DISABLED: 'maybe', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', MAX_EVENT_BYTES: '1.5' });
    for (const name of ['SOURCE_PORT', 'HISTORY_SIZE', 'AUTH_DISABLED', 'LOG_LEVEL', 'REDIS_URL', 'MAX_EVENT_BYTES']) {
      expect(found.some((p) => p.startsWith(name)), name).toBe(true);
    }
    expect(found).toHaveLength(6);
  });

  test('short secrets and bad origins are refused', () => {
    expect(problems({ PUBLISHER_KEYS: 'short' })[0]).toMatch(/^PUBLISHER_KEYS/);
    expect(problems({ SUBSCRIBER_JWT_SECRET: 'short' })[0]).toMatch(/^SUBSCRIBER_JWT_SECRET/);
    expect(problems({ ALLOWED_ORIGINS: 'app.example.com' })[0]).toMatch(/^ALLOWED_ORIGINS/);
  });

  test('PUBLISHER_KEYS_FILE adds one key per line, skipping blanks and comments', () => {
    const config = loadConfig(
      { PUBLISHER_KEYS: 'key-from-env-0000000', PUBLISHER_KEYS_FILE: '/keys' },
      { readFile: (path) => (path === '/keys' ? '# producers\nkey-from-file-000000\n\nkey-from-file-111111\n' : '') },
    );
    expect(config.publisherKeys).toEqual(['key-from-env-0000000', 'key-from-file-000000', 'key-from-file-111111']);
    expect(problems({ PUBLISHER_KEYS_FILE: '/missing' })[0]).toMatch(/^PUBLISHER_KEYS_FILE/);
  });

  test('pretty logs default to on only for a TTY outside production', () => {
    expect(loadConfig({}, { isTty: true }).logPretty).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }, { isTty: true }).logPretty).toBe(false);
    expect(loadConfig({}, { isTty: false }).logPretty).toBe(false);
  });
});

describe('missingCredentials', () => {
  test('each service needs its own credential and says which variable to set', () => {
    const none = loadConfig({});
    expect(missingCredentials(none, 'source-server')).toContain('PUBLISHER_KEYS');
    expect(missingCredentials(none, 'client-server')).toContain('SUBSCRIBER_JWT_SECRET');
    const source = loadConfig({ PUBLISHER_KEYS: 'k'.repeat(16) });
    expect(missingCredentials(source, 'source-server')).toBeUndefined();
    expect(missingCredentials(source, 'client-server')).toContain('SUBSCRIBER_JWT_SECRET');
  });

  test('AUTH_DISABLED=true lets both start without credentials', () => {
    const config = loadConfig({ AUTH_DISABLED: 'true' });
    expect(missingCredentials(config, 'source-server')).toBeUndefined();
    expect(missingCredentials(config, 'client-server')).toBeUndefined();
  });
});
