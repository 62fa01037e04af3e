/**
 * The service's memory at rest, as `npm run bench` starts it (bundled build, Dockerfile flags): RSS, its split
 * (file-backed pages of the node binary and libraries against private memory, /proc/<pid>/smaps_rollup) and the
 * V8 heap (/metrics), 10 s after it is ready. Extra node flags: VEILLEUR_NODE_FLAGS (as for the other runs).
 *   sh infra/scripts/with-node.sh node --import tsx test/bench/idle-memory.ts
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ServiceProcess, startStack, waitFor } from '../integration/support.ts';
import { SERVICE_NODE_FLAGS } from './node-flags.ts';
import { scaledTown, townRegistry } from '../../services/simulator/town.ts';
import { memoryMb } from './procstat.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.env.BENCH_SKIP_BUILD !== '1') execSync('npm run -s build', { cwd: ROOT, stdio: 'inherit' });
const stack = await startStack({ persistence: false });
// The node flags of the benchmark (test/bench/node-flags.ts) unless IDLE_FLAGS gives others, to compare them.
const flags = process.env.IDLE_FLAGS !== undefined ? process.env.IDLE_FLAGS.split(' ').filter(Boolean) : [...SERVICE_NODE_FLAGS];
// The registry and settings of `npm run bench` (the simulated town, 1,134 devices); IDLE_EMPTY=1: an empty registry.
const registry = process.env.IDLE_EMPTY === '1' ? undefined : townRegistry(scaledTown(63));
const service = new ServiceProcess(stack, { LOG_LEVEL: 'warn', ALERT_EVAL_MINUTES: '1440' }, registry, [...flags, join(ROOT, 'dist', 'veilleur.mjs')]);
try {
  await service.start();
  await waitFor(async () => (await service.ready())?.ready === true, 30_000, 'service ready');
  await sleep(Number(process.env.IDLE_SECONDS ?? 10) * 1000);
  const pid = service.pid()!;
  // IDLE_SNAPSHOT=1 with VEILLEUR_NODE_FLAGS=--heap-snapshot-signal=SIGUSR2: a heap snapshot in the service's directory.
  if (process.env.IDLE_SNAPSHOT === '1') {
    process.kill(pid, 'SIGUSR2');
    await sleep(8000);
  }
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) / 1024;
  const metrics = await (await fetch(`${await service.url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  const threads = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)?.[1];
  const r = {
    rssMb: +memoryMb(pid).rss.toFixed(1),
    fileBackedMb: +(kb('Rss') - kb('Anonymous')).toFixed(1),
    anonymousMb: +kb('Anonymous').toFixed(1),
    heapUsedMb: +metric('veilleur_nodejs_heap_size_used_bytes').toFixed(1),
    heapTotalMb: +metric('veilleur_nodejs_heap_size_total_bytes').toFixed(1),
    externalMb: +metric('veilleur_nodejs_external_memory_bytes').toFixed(1),
    threads: Number(threads),
    flags: flags.join(' '),
  };
  process.stdout.write(`idle: ${JSON.stringify(r)}\n`);
  // V8's heap by space: committed (total) against used, in MB.
  const spaces = [...metrics.matchAll(/^veilleur_nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\} (\S+)/gm)];
  const bySpace = new Map<string, { total?: number; used?: number }>();
  for (const [, kind, space, bytes] of spaces) bySpace.set(space!, { ...bySpace.get(space!), [kind!]: +(Number(bytes) / 2 ** 20).toFixed(1) });
  process.stdout.write(`heap spaces (MB committed / used): ${[...bySpace].map(([s, v]) => `${s} ${v.total}/${v.used}`).join(', ')}\n`);
  // IDLE_MAPS=1: resident MB per mapped file (the node binary, libraries, ICU data) and anonymous memory.
  if (process.env.IDLE_MAPS === '1') {
    const perFile = new Map<string, number>();
    let name = '';
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) name = head[1] || '[anonymous]';
      else if (line.startsWith('Rss:')) perFile.set(name, (perFile.get(name) ?? 0) + Number(line.split(/\s+/)[1]) / 1024);
    }
    for (const [file, mb] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`  ${mb.toFixed(1).padStart(6)} MB  ${file}\n`);
  }
} finally {
  await service.stop();
  await stack.close();
}
