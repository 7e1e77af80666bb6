import { describe, expect, test } from 'vitest';
import { MIN_SECRET_LENGTH, signSubscriberToken } from '../../cli/jwt.js';
import { verifySubscriberToken } from '../../services/client-server/auth/jwt.js';
import { MIN_JWT_SECRET_LENGTH } from '../../services/runtime/config/schema.js';

describe('the CLI token signer', () => {
  test('requires the secret length the client-server requires (the standalone CLI keeps its own copy of the rule)', () => {
    expect(MIN_SECRET_LENGTH).toBe(MIN_JWT_SECRET_LENGTH);
  });

  test('mints tokens the client-server accepts', async () => {
    const secret = 's'.repeat(MIN_JWT_SECRET_LENGTH);
    const token = signSubscriberToken(secret, { channels: ['news'], ttlSeconds: 60, sub: 'u1' });
    const claims = await verifySubscriberToken(token, secret, Date.now());
    expect(claims.channels.allows('news')).toBe(true);
    expect(claims.sub).toBe('u1');
  });
});
