import { randomUUID } from 'node:crypto';
import { Control } from '../control.js';
import type { Engine, EngineDeps } from '../engine.js';
import { publishRateLimitOptions } from '../rate-limiter.js';
import { startWebhooks } from '../webhooks/dispatcher.js';
import { MemoryOutboxStore } from '../webhooks/memory-outbox.js';
import { webhookChannels } from '../webhooks/routes.js';
import { MemoryBroker } from './memory-broker.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryChannels } from './memory-channels.js';
import { MemoryLiveness } from './memory-liveness.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';

/** An Engine whose bus is known to be the in-memory one (tests reach into it). */
export interface MemoryEngine extends Engine {
  readonly kind: 'memory';
  readonly bus: MemoryBus;
  readonly broker: MemoryBroker;
  /** Stops this replica without leaving anything, as a killed process would (tests of expiry). */
  crash(): Promise<void>;
}

/**
 * The broker inside one process (embedded mode, fast tests): the same
 * semantics, nothing survives the process. `broker`: share one between
 * engines to stand for several replicas (the engine contract tests do).
 */
export function createMemoryEngine(deps: EngineDeps & { broker?: MemoryBroker }): MemoryEngine {
  const { config, logger, now } = deps;
  const replicaId = randomUUID();
  const broker = deps.broker ?? new MemoryBroker({ config, now });
  const bus = new MemoryBus({ config, logger, broker });
  const webhooks = webhookChannels(config);
  const presence = new MemoryPresence(broker, replicaId, bus, webhooks);
  const channels = new MemoryChannels(broker, replicaId, webhooks);
  const liveness = new MemoryLiveness(broker, replicaId, config.presenceTtlSeconds * 1000, (replica) => {
    presence.expireReplica(replica);
    channels.expireReplica(replica);
  });
  const control = new Control(bus, logger);
  const dispatcher = startWebhooks({ config, logger, metrics: deps.metrics }, () => new MemoryOutboxStore(broker));
  const release = async () => {
    await dispatcher?.close();
    await control.stop();
    await bus.close();
    if (!deps.broker) broker.close();
  };
  return {
    kind: 'memory',
    replicaId,
    bus,
    broker,
    presence,
    channels,
    control,
    publishRateLimiter: config.publishRateLimit > 0 ? new MemoryRateLimiter(publishRateLimitOptions(config), now) : undefined,
    async noteCacheMiss(channel) {
      broker.append(webhooks(channel), { kind: 'cache.miss', channel, time: broker.now() });
    },
    health: () => bus.health(),
    async close() {
      liveness.close();
      await release();
    },
    async crash() {
      liveness.stop();
      await release();
    },
  };
}
