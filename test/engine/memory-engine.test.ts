import { createMemoryEngine } from '../../services/engine/memory/memory-engine.js';
import { MemoryBroker } from '../../services/engine/memory/memory-broker.js';
import { loadConfig } from '../../services/runtime/config/load.js';
import { sinkLogger } from '../support/recorder.js';
import { channelsContract } from './channels-contract.js';
import { presenceContract } from './presence-contract.js';
import type { ReplicaFactory } from './replicas.js';

/** Replicas of one process: engines sharing a MemoryBroker, as the embedded mode would if it ran several. */
const memoryReplicas: ReplicaFactory = async (count, overrides = {}) => {
  const config = { ...loadConfig({}), ...overrides };
  const broker = new MemoryBroker({ config });
  const replicas = Array.from({ length: count }, () => createMemoryEngine({ config, logger: sinkLogger().logger, broker }));
  return {
    replicas,
    outbox: async (channel) => [...(broker.outbox.get(channel) ?? [])],
    async close() {
      await Promise.all(replicas.map((r) => r.close()));
      broker.close();
    },
  };
};

presenceContract('the memory engine', memoryReplicas);
channelsContract('the memory engine', memoryReplicas);
