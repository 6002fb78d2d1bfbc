import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: the broker, Redis and DuckDB need their share.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  },
});
