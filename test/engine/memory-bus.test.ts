import { MemoryBus } from '../../services/engine/memory/memory-bus.js';
import { DEFAULT_HISTORY_SIZE, DEFAULT_HISTORY_TTL_SECONDS, DEFAULT_IDEMPOTENCY_TTL_SECONDS } from '../../services/runtime/config/schema.js';
import { busContract } from './contract.js';
import { sinkLogger } from '../support/recorder.js';

busContract('MemoryBus', async (overrides = {}) => {
  const bus = new MemoryBus({
    config: {
      historySize: DEFAULT_HISTORY_SIZE,
      historyTtlSeconds: DEFAULT_HISTORY_TTL_SECONDS,
      idempotencyTtlSeconds: DEFAULT_IDEMPOTENCY_TTL_SECONDS,
      ...overrides,
    },
    logger: sinkLogger().logger,
  });
  return { bus, cleanup: () => bus.close() };
});
