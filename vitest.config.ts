import { configDefaults, defineConfig } from 'vitest/config';

// Files named *.serial.test.ts measure response times under their own load (the looping-codec test asks /healthz
// for < 100 ms throughout): `npm test` runs them after the others, alone on the machine, so that another file's
// servers do not take their CPU. VITEST_SERIAL=1 selects them.
const serial = process.env.VITEST_SERIAL === '1';

export default defineConfig({
  test: {
    include: serial ? ['test/**/*.serial.test.ts'] : ['test/**/*.test.ts', 'decoders/**/*.test.ts'],
    exclude: serial ? configDefaults.exclude : [...configDefaults.exclude, 'test/**/*.serial.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration tests start real servers on free ports: files run in parallel, each with its own stack.
    fileParallelism: !serial,
    maxWorkers: serial ? 1 : 2,
  },
});
