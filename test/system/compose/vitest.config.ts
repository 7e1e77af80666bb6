import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:compose` only (scripts/test-compose.sh): the shared
 * end-to-end suite plus the compose-only tests, whose files end in
 * .compose-test.ts so that `npm test` (test/**\/*.test.ts) never picks them
 * up without a stack to run against.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['test/system/e2e/**/*.test.ts', 'test/system/compose/**/*.compose-test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One file at a time: the suites restart Redis and kill replicas of the same stack.
    fileParallelism: false,
  },
});
