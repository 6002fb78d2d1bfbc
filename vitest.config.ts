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
    // expect.poll waits for something that will happen (a tile fading in, a count catching up);
    // vitest's 1 s default failed the live map under CI load. A wrong state still fails, later.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
