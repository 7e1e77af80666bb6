import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults` only: the fault-injection scenarios, whose files end
 * in .fault-test.ts so that `npm test` never picks them up. They run one at a
 * time (they share the machine's 2 cores) and RELIABILITY.md is written at
 * the end (global-setup.ts).
 */
export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['test/system/faults/**/*.fault-test.ts'],
    globalSetup: ['test/system/faults/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
