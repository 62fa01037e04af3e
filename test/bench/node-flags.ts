/**
 * The node flags the service runs with in production (Dockerfile's CMD), in `npm run bench` and in the comparison
 * harness (harness.env's BENCH_CMD); test/unit/node-flags.test.ts checks the three agree. Measured (issue 15, item 4,
 * docs/performance.md): young-generation semi-spaces of 2 MB instead of 8 take 15–20 MB off the peak RSS of a
 * 100,000-uplink codec run at the same uplinks/s; one V8 helper thread instead of four takes three threads (and
 * their stacks and malloc arenas) off the idle service. The old-generation limit stays well above the live set.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=112', '--max-semi-space-size=2', '--v8-pool-size=1'] as const;
