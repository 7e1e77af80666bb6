import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildClientApp } from '../../services/client-server/app.js';
import { SubscriberKeys } from '../../services/client-server/auth/subscriber-keys.js';
import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';

/** The wall clock the token tests start at (a whole second). */
export const TOKEN_NOW_MS = 1_800_000_000_000;
/** The channel every probe asks for; tokens of these tests allow only `elsewhere`, so an accepted token meets 403. */
const PROBE = 'probe';

/** A client-server app over a memory engine whose clock the test moves, and a way to ask its doors about a token. */
export interface TokenRelay {
  app: FastifyInstance;
  /** The app's `now`: token expiry and the JWKS refetch cooldown. */
  clock: { ms: number };
  /**
   * `accepted` when the token passed (the SSE door then refuses the channel
   * with 403), else the 401 message, checked to be the same refusal at the
   * WebSocket upgrade.
   */
  verdict(token: string): Promise<string>;
  close(): Promise<void>;
}

export interface TokenRelayOptions {
  /** Keys the test loaded itself (a PEM file, a short refresh); the test closes them. Default: loaded by the app from `env`. */
  keys?: (clock: { ms: number }) => Promise<SubscriberKeys>;
}

export async function startTokenRelay(env: Record<string, string>, options: TokenRelayOptions = {}): Promise<TokenRelay> {
  const config = loadConfig(env);
  const logger = pino({ level: 'silent' });
  const clock = { ms: TOKEN_NOW_MS };
  const engine = createMemoryEngine({ config, logger });
  const subscriberKeys = await options.keys?.(clock);
  const app = await buildClientApp({ config, logger, engine, now: () => clock.ms, subscriberKeys });
  return {
    app,
    clock,
    async verdict(token) {
      const sse = await app.inject({ method: 'GET', url: `/v1/sse/${PROBE}?token=${encodeURIComponent(token)}`, headers: { accept: 'text/event-stream' } });
      if (sse.statusCode === 403) return 'accepted';
      if (sse.statusCode !== 401) throw new Error(`unexpected answer ${sse.statusCode}: ${sse.body}`);
      const upgrade = await app.inject({
        method: 'GET',
        url: '/v1/ws',
        headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      const message = (sse.json() as { error: { code: string; message: string } }).error.message;
      if (upgrade.statusCode !== 401 || upgrade.json().error.message !== message) throw new Error(`the WebSocket door answered otherwise: ${upgrade.statusCode} ${upgrade.body}`);
      return message;
    },
    async close() {
      await app.close();
      subscriberKeys?.close();
      await engine.close();
    },
  };
}

/** Loads keys as main.ts does, with a readFile the test provides. */
export function loadKeys(env: Record<string, string>, clock: { ms: number }, extra: { readFile?: (path: string) => string; jwksRefreshIntervalMs?: number } = {}): Promise<SubscriberKeys> {
  return SubscriberKeys.load(loadConfig(env), { logger: pino({ level: 'silent' }), now: () => clock.ms, ...extra });
}
