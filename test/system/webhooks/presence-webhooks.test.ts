import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { startRedisServer, type RedisServerHandle } from '../../../tools/redis-server.js';
import { E2E_JWT_SECRET } from '../../support/local-stack.js';
import { eventually, freshChannel } from '../../support/recorder.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';
import { serviceEnv, startService, type Service } from '../../support/webhook-processes.js';
import { TestSocket } from '../../support/ws-client.js';

/*
 * Occupancy and presence webhooks through real processes (`npm run build`
 * first): two client-servers on one real Redis, real WebSocket subscribers
 * with presence, a real receiver checking every signature. Each transition
 * must be reported once for the whole deployment, in order per channel, also
 * when the client-server that saw the members dies without a word.
 */

const SECRET = 'system-webhook-secret-0123456789-abcdef';
const SLOW = 90_000;

let redis: RedisServerHandle;
const services: Service[] = [];
const sockets: TestSocket[] = [];
let receiver: WebhookReceiver;

beforeEach(async () => {
  redis = await startRedisServer({ appendonly: true });
  receiver = await startWebhookReceiver(SECRET);
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  await Promise.all(services.splice(0).map((s) => s.stop('SIGKILL')));
  await receiver.close();
  await redis.stop();
});

async function clientServer(): Promise<Service> {
  const env = serviceEnv(redis.url, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: SECRET, PRESENCE_TTL_SECONDS: '3', STATS_INTERVAL_SECONDS: '0.5' });
  const service = await startService('client-server', env);
  services.push(service);
  return service;
}

async function member(server: Service, channel: string, user: string): Promise<TestSocket> {
  const token = signSubscriberToken(E2E_JWT_SECRET, { channels: [channel], presence: [channel], sub: user, info: { name: user } });
  const socket = await TestSocket.open(`${server.url.replace('http', 'ws')}/v1/ws`, { token });
  sockets.push(socket);
  socket.send({ type: 'subscribe', channel, presence: true });
  await socket.next((m) => m.type === 'subscribed');
  return socket;
}

const kindsOf = (channel: string) =>
  receiver.events().filter((e) => e.channel === channel).map((e) => ('user' in e ? `${e.kind} ${String(e.user)}` : e.kind));

describe('occupancy and presence webhooks across two client-servers', () => {
  test('a channel occupied and a user joined through both client-servers is reported once each, occupied before join, in order', { timeout: SLOW }, async () => {
    const [a, b] = [await clientServer(), await clientServer()];
    const channel = freshChannel('room');
    const ada1 = await member(a, channel, 'ada');
    const ada2 = await member(b, channel, 'ada');
    const bob = await member(b, channel, 'bob');
    await eventually(() => kindsOf(channel).length >= 3, 'occupied and two joins arrived', 30_000);
    bob.ws.close();
    await eventually(() => kindsOf(channel).length >= 4, 'bob\'s leave arrived', 30_000);
    // Ada's first connection going is no leave: her other one, on the other client-server, stays.
    ada1.ws.close();
    ada2.ws.close();
    await eventually(() => kindsOf(channel).length >= 6, 'two leaves and vacated arrived', 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(kindsOf(channel)).toEqual(['channel.occupied', 'presence.join ada', 'presence.join bob', 'presence.leave bob', 'presence.leave ada', 'channel.vacated']);
    expect(receiver.received.every((x) => x.signed && x.contentType === 'application/json')).toBe(true);
  });

  test('the members of a SIGKILLed client-server leave within PRESENCE_TTL_SECONDS, reported once by the survivor, and its last channel is vacated', { timeout: SLOW }, async () => {
    const [a, b] = [await clientServer(), await clientServer()];
    const [shared, alone] = [freshChannel('shared'), freshChannel('alone')];
    const watcher = await member(a, shared, 'stays');
    await member(b, shared, 'goes');
    await member(b, alone, 'goes');
    await watcher.next((m) => m.type === 'join' && m.user === 'goes');
    await eventually(() => kindsOf(alone).length >= 2, 'the lone channel was occupied and joined', 30_000);
    await b.stop('SIGKILL');
    // The survivor's subscriber hears the leave, and the webhooks follow, each once.
    expect(await watcher.next((m) => m.type === 'leave', 15_000)).toMatchObject({ type: 'leave', channel: shared, user: 'goes' });
    await eventually(() => kindsOf(alone).length >= 4 && kindsOf(shared).length >= 4, 'the dead replica\'s members left and its channel was vacated', 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(kindsOf(alone)).toEqual(['channel.occupied', 'presence.join goes', 'presence.leave goes', 'channel.vacated']);
    expect(kindsOf(shared)).toEqual(['channel.occupied', 'presence.join stays', 'presence.join goes', 'presence.leave goes']);
  });
});
