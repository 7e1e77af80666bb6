import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PusherServer from 'pusher';
import PusherModule from 'pusher-js';
import type { Channel, Options } from 'pusher-js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './local-stack.js';

// pusher-js ships CommonJS (module.exports = Pusher) with ES-module typings; under NodeNext the
// default import is the constructor at runtime but typed as the namespace, whose `default` is the class.
export const Pusher = PusherModule as unknown as typeof PusherModule.default;
export type PusherClient = InstanceType<typeof Pusher>;

export interface TestApp {
  id: string;
  key: string;
  secret: string;
}

/** Two apps: app 1 allows client events, app 2 does not; a channel of one is never seen by the other. */
export const APP: TestApp = { id: '1', key: 'app-key-1', secret: 'app-secret-1' };
export const OTHER_APP: TestApp = { id: 'two', key: 'app-key-2', secret: 'app-secret-2' };
/** A 32-byte key for private-encrypted- channels (pusher-http-node derives each channel's shared secret from it). */
export const ENCRYPTION_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** Writes a PUSHER_APPS_FILE for APP and OTHER_APP (plus `extra` fields on APP) and returns its path. */
export function writeAppsFile(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pusher-apps-'));
  const path = join(dir, 'apps.json');
  writeFileSync(path, JSON.stringify({ apps: [{ ...APP, clientEvents: true, ...extra }, { ...OTHER_APP }] }));
  return path;
}

/** Two client-servers and a source-server on one real Redis, with both apps (build first: `npm run build`). */
export async function startPusherStack(options: LocalStackOptions & { appExtra?: Record<string, unknown> } = {}): Promise<LocalStack> {
  return startLocalStack({
    ...options,
    env: {
      PUSHER_APPS_FILE: writeAppsFile(options.appExtra),
      // Subscription counts reach the HTTP API this fast, so that tests waiting for them are quick.
      STATS_INTERVAL_SECONDS: '0.2',
      ...options.env,
    },
  });
}

/** The `pusher` server SDK pointed at the stack's source-server. */
export function pusherServer(stack: { sourceUrl: string }, app: TestApp = APP): PusherServer {
  const url = new URL(stack.sourceUrl);
  return new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: url.hostname, port: url.port, useTLS: false, encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY });
}

export interface ClientOptions {
  app?: TestApp;
  /** The presence member this client's auth endpoint signs (channel_data). */
  user?: { user_id: string | number; user_info?: unknown };
  /** What `signin()` signs (user_data). */
  signinAs?: { id: string; user_info?: unknown };
  /** Overrides of pusher-js's options (activityTimeout, …). */
  options?: Partial<Options>;
}

/**
 * A real pusher-js 8 (Node build) client of the stack's client-server
 * `clientUrl`, with no network beyond it: ws only, no stats, no TLS. Its
 * auth endpoint is a customHandler signing with pusher-http-node, as an
 * app's server would.
 */
export function pusherClient(clientUrl: string, options: ClientOptions = {}): PusherClient {
  const app = options.app ?? APP;
  const signer = new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY });
  const url = new URL(clientUrl);
  return new Pusher(app.key, {
    cluster: '',
    wsHost: url.hostname,
    wsPort: Number(url.port),
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        try {
          const member = channelName.startsWith('presence-') ? (options.user ?? { user_id: 'anonymous' }) : undefined;
          callback(null, signer.authorizeChannel(socketId, channelName, member as PusherServer.PresenceChannelData | undefined));
        } catch (err) {
          callback(err as Error, null);
        }
      },
    } as Options['channelAuthorization'],
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        if (!options.signinAs) return callback(new Error('this test client does not sign in'), null);
        callback(null, signer.authenticateUser(socketId, options.signinAs as PusherServer.UserChannelData));
      },
    } as Options['userAuthentication'],
    ...options.options,
  });
}

/** Resolves once the client is `connected` (its socket_id known). */
export function connected(client: PusherClient, timeoutMs = 10_000): Promise<string> {
  if (client.connection.state === 'connected') return Promise.resolve(client.connection.socket_id);
  return waitFor(timeoutMs, `pusher-js to connect (state ${client.connection.state})`, (done) => {
    client.connection.bind('connected', () => done(client.connection.socket_id));
  });
}

/** Subscribes and resolves with the subscription_succeeded data; rejects on pusher:subscription_error. */
export function subscribed(client: PusherClient, name: string, timeoutMs = 10_000): Promise<{ channel: Channel; data: unknown }> {
  const channel = client.subscribe(name);
  return waitFor(timeoutMs, `subscription to ${name}`, (done, fail) => {
    channel.bind('pusher:subscription_succeeded', (data: unknown) => done({ channel, data }));
    channel.bind('pusher:subscription_error', (error: unknown) => fail(Object.assign(new Error(`subscription_error on ${name}: ${JSON.stringify(error)}`), { data: error })));
  });
}

/** Every event a channel emits to its bindings (pusher-js's own included), in order. */
export function record(channel: Channel): { event: string; data: unknown }[] {
  const seen: { event: string; data: unknown }[] = [];
  channel.bind_global((event: string, data: unknown) => seen.push({ event, data }));
  return seen;
}

/** Polls until `check` returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function waitFor<T>(timeoutMs: number, what: string, arm: (done: (value: T) => void, fail: (err: Error) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    arm(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
