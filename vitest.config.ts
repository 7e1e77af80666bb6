import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end suites start redis-server and real service processes.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only make the process-spawning suites contend.
    maxWorkers: 2,
  },
});
