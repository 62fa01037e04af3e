/**
 * CPU per TS013 codec call, on the harness's own codec (../shared/bench/codec/bench-ts013.js):
 *   node --import tsx test/bench/codec-engine.ts [calls]
 * Calls are issued in bursts of 500, as the messages of one network read are. "process" is the CPU of every thread
 * (main + codec worker), "main thread" what the ingestion thread itself spends (read from /proc: the thread whose
 * id is the process id), which is what a codec call takes away from ingestion, the API and the writer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ts013Codec } from '../../decoders/custom/ts013-sandbox.ts';

const CODEC = join(import.meta.dirname, '..', '..', '..', 'shared', 'bench', 'codec', 'bench-ts013.js');
const TICK_US = 1e6 / 100; // USER_HZ

function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

function frames(n: number): Array<[Uint8Array, number]> {
  const out: Array<[Uint8Array, number]> = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    if (k === 0) out.push([Uint8Array.from([i & 255, (i >> 8) & 255, 0, 0, i & 1]), 10]);
    else if (k === 1) out.push([Uint8Array.from([i & 255, 1, 0, 0, 0x10, 0x01]), 20]);
    else out.push([Uint8Array.from([0xd2, 0, 45, 0x20, 0x03]), 30]);
  }
  return out;
}

export interface CodecBench {
  calls: number;
  processUsPerCall: number;
  mainThreadUsPerCall: number;
  wallUsPerCall: number;
}

export async function benchCodec(calls = 100_000, burst = 500): Promise<CodecBench> {
  if (!existsSync(CODEC)) throw new Error(`${CODEC} not found: the comparison harness (../shared/bench) is needed`);
  const codec = new Ts013Codec('bench', readFileSync(CODEC, 'utf8'), 100, 32);
  const input = frames(burst);
  const at = new Date();
  const run = async (n: number) => {
    for (let done = 0; done < n; done += burst) {
      const results = await Promise.all(input.map(([b, p], i) => codec.decode(b, p, at, `dev${i % 50}`)));
      if (results.some((r) => r.errors.length > 0)) throw new Error(`codec failed: ${results.find((r) => r.errors.length)?.errors[0]}`);
    }
  };
  try {
    await run(5000); // worker start and JIT warm-up
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuUs();
    const t0 = performance.now();
    await run(calls);
    const wall = (performance.now() - t0) * 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      calls,
      processUsPerCall: +((cpu.user + cpu.system) / calls).toFixed(2),
      mainThreadUsPerCall: +((mainThreadCpuUs() - main0) / calls).toFixed(2),
      wallUsPerCall: +(wall / calls).toFixed(2),
    };
  } finally {
    codec.stop();
  }
}

if (import.meta.filename === process.argv[1]) {
  const r = await benchCodec(Number(process.argv[2] ?? 100_000));
  console.log(`TS013 codec path: ${r.processUsPerCall} µs CPU per call (all threads), ${r.mainThreadUsPerCall} µs on the main thread, ${r.wallUsPerCall} µs wall per call (${r.calls} calls in bursts of 500)`);
}
