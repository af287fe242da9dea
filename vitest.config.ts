import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers (ours, Orthanc) on free ports; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
