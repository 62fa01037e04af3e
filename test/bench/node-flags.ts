/**
 * The node flags the service runs with in production (Dockerfile's CMD), in `npm run bench` and in the comparison
 * harness (harness.env's BENCH_CMD); test/unit/node-flags.test.ts checks the three agree. Measured (issue 15,
 * docs/performance.md): young-generation semi-spaces of 8 MB instead of 2 cut the CPU of a 100,000-uplink codec run
 * by about a fifth (an uplink waiting for its codec and its acknowledgement no longer outlives several scavenges
 * and gets promoted) at the same peak RSS on Node 24, for about 10 MB more at rest; 16 MB cut a little more CPU
 * for 20–30 MB more at peak. One V8 helper thread instead of four takes three threads (and their stacks and malloc
 * arenas) off the idle service. The old-generation limit stays well above the live set.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=112', '--max-semi-space-size=8', '--v8-pool-size=1', '--expose-gc'] as const;
