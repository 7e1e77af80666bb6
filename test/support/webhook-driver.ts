/**
 * A process that publishes client events through a real engine, driven over
 * stdin (one JSON line per publish: {"channel","data","publisher"}; answers
 * {"id"} or {"error"} on stdout), so that a test can SIGKILL the process that
 * saw a transition. It stands in for a client-server until client publish
 * over WebSocket is merged: the engine, its publish script and its webhook
 * dispatcher are the ones a client-server runs. Run with `node --import tsx`.
 */
import { createInterface } from 'node:readline';
import { createEngine } from '../../services/engine/create-engine.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { createLogger } from '../../services/runtime/logger.js';
import { ServiceMetrics } from '../../services/runtime/metrics.js';

const config = loadConfig(process.env);
const logger = createLogger(config, 'webhook-driver', process.stderr);
const engine = createEngine({ config, logger, registry: new ServiceMetrics().registry }, { subscribe: false });
while (!engine.health().ok) await new Promise((r) => setTimeout(r, 20));
process.stdout.write('{"ready":true}\n');

for await (const line of createInterface({ input: process.stdin })) {
  const { channel, data, publisher } = JSON.parse(line) as { channel: string; data: unknown; publisher: string };
  try {
    const [result] = await engine.bus.publish([{ channel, data: JSON.stringify(data), ts: Date.now(), publisher }]);
    process.stdout.write(`${JSON.stringify({ id: result!.id })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  }
}
await engine.close();
