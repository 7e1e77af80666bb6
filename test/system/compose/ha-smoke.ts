// Used by scripts/test-compose-ha.sh: `node --import tsx test/system/compose/ha-smoke.ts <source port> <client port>...`.
// Publishes one event to each of 12 channels (they hash onto every Cluster master) through the
// source-server and checks that each arrives on a WebSocket of every client-server. Exits 1 otherwise.
import { signSubscriberToken } from '../../../services/client-server/auth/jwt.js';
import { parseEnvFile, readRepoFile } from '../../support/manifests.js';
import { TestSocket } from '../../support/ws-client.js';

const [sourcePort, ...clientPorts] = process.argv.slice(2);
const env = parseEnvFile(readRepoFile('compose.env'));
const token = signSubscriberToken(env.SUBSCRIBER_JWT_SECRET!, { channels: ['*'], ttlSeconds: 600 });
const channels = Array.from({ length: 12 }, (_, i) => `ha-smoke-${Date.now()}-${i}`);
const sockets = await Promise.all(clientPorts.map((port) => TestSocket.open(`ws://127.0.0.1:${port}/v1/ws`, { token })));
try {
  for (const socket of sockets) for (const channel of channels) await socket.subscribe(channel);
  for (const channel of channels) {
    const res = await fetch(`http://127.0.0.1:${sourcePort}/v1/channels/${channel}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.PUBLISHER_KEYS!.split(',')[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel }),
    });
    if (res.status !== 200) throw new Error(`publish to ${channel} answered ${res.status}: ${await res.text()}`);
  }
  for (const socket of sockets) for (const channel of channels) await socket.waitForEvents(channel, 1);
  console.log(`ha-smoke: ${channels.length} channels published on :${sourcePort}, delivered on :${clientPorts.join(', :')}`);
} finally {
  for (const socket of sockets) socket.close();
}
process.exit(0);
