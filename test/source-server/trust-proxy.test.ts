import { pino } from 'pino';
import { expect, test } from 'vitest';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { ConfigError, loadConfig } from '../../services/runtime/config/load.js';
import { buildClientApp } from '../../services/client-server/app.js';

test('TRUST_PROXY accepts false, true, hops and addresses, and refuses anything else by name', () => {
  expect(loadConfig({}).trustProxy).toBe(false);
  expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
  expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(ConfigError);
});

test('behind a trusted proxy the per-IP connection limit counts the forwarded client, not the proxy', async () => {
  const config = loadConfig({ AUTH_DISABLED: 'true', MAX_CONNECTIONS_PER_IP: '1', TRUST_PROXY: '127.0.0.1' });
  const logger = pino({ level: 'silent' });
  const engine = createMemoryEngine({ config, logger });
  const app = await buildClientApp({ config, logger, engine });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/sse/demo`;
  const open = (ip: string) => fetch(url, { headers: { 'x-forwarded-for': ip } });
  const first = await open('203.0.113.1');
  const second = await open('203.0.113.2');
  const sameAsFirst = await open('203.0.113.1');
  expect([first.status, second.status, sameAsFirst.status]).toEqual([200, 200, 429]);
  await first.body?.cancel();
  await second.body?.cancel();
  await app.clientRelay.connections.drain(0);
  await app.close();
  await engine.close();
});
