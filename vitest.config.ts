import { defineConfig } from 'vitest/config';

// Two cores here and in CI: keep worker count modest; servers in tests bind 127.0.0.1:0.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
