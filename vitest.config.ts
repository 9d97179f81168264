import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start servers on ephemeral ports; two cores means two workers is the useful maximum.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
