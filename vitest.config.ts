import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'decoders/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration tests start real servers on free ports: files run in parallel, each with its own stack.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
