/**
 * CPU per uplink of the ingestion path alone, in one process: the harness's ChirpStack v4 messages
 * (../shared/bench/gen/uplinks.js) through the ingestor (envelope, registry, TS013 codec in its worker, readings,
 * stream alert rules, line protocol) into a spool, in bursts of 500 as one network read brings them; no broker,
 * no InfluxDB, so the figure does not move with their share of the two cores. With garbage-collection counts:
 *   sh infra/scripts/with-node.sh node --import tsx --max-semi-space-size=8 test/bench/ingest-cpu.ts [uplinks]
 * Add --cpu-prof --cpu-prof-dir=/tmp/prof for a profile (test/bench/cpuprofile-top.mjs reads it). INGEST_ALLOC=1: where
 * the main thread allocates, bytes per uplink by function (V8's sampling heap profiler, counting what the young and
 * old collections freed too: allocation, not what stays); with INGEST_ALLOC_MINOR=0, only what outlived the young
 * generation (promoted or pretenured, what costs a full collection later).
 */
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { Session } from 'node:inspector/promises';
import { loadConfig } from '../../services/config/load.ts';
import { createMetrics } from '../../services/metrics.ts';
import { loadCustomCodecs } from '../../services/pipeline/custom-codecs.ts';
import { builtInDecoders } from '../../services/pipeline/decode.ts';
import { Ingestor } from '../../services/pipeline/ingest.ts';
import { Registry } from '../../services/registry/registry.ts';
import { Spool } from '../../services/storage/spool.ts';
import { AlertEngine } from '../../services/alerts/engine.ts';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import { calendarLookup, siteRulesLookup } from '../../services/alerts/scheduler.ts';
import { defaultStreamRules } from '../../services/alerts/rules/index.ts';
import { displayNames } from '../../services/registry/names.ts';

const GEN = join(import.meta.dirname, '..', '..', '..', 'shared', 'bench', 'gen', 'uplinks.js');
if (!existsSync(GEN)) throw new Error(`${GEN} not found: the comparison harness (../shared/bench) is needed`);
const gen = createRequire(import.meta.url)(GEN) as { uplink(i: number): { topic: string; event: unknown } };
const N = Number(process.argv[2] ?? 100000);
const cfg = loadConfig({ ...process.env, VEILLEUR_CONFIG: join(import.meta.dirname,'bench-veilleur.yaml'), MQTT_URL: 'mqtt://127.0.0.1:1', INFLUX_URL: 'http://127.0.0.1:1', INFLUX_DB: 'x', DATA_DIR: mkdtempSync(join(tmpdir(), 'ic-')) });
const custom = loadCustomCodecs(cfg.registry.codecs, cfg.configFile);
const metrics = createMetrics();
const names = displayNames(cfg.registry);
const alerts = new AlertEngine(defaultStreamRules(siteRulesLookup(cfg.registry.sites), names.site), new AlertBook(), calendarLookup(cfg.registry.sites));
const ing = new Ingestor(new Registry(cfg.registry, cfg.defaultTenant), [custom.resolver, builtInDecoders], metrics, pino({ level: 'silent' }), (d, m, at, r) => alerts.onReadings(d, m, at, r).map((e) => JSON.stringify(e)));
const spool = new Spool({ dir: join(cfg.spool.dir, 'spool'), maxBytes: 1e9, segmentBytes: 64e6, fsyncMs: 1000 });
spool.open();
const msgs: [string, Buffer][] = [];
for (let i = 0; i < N + 10000; i++) { const u = gen.uplink(i); msgs.push([u.topic, Buffer.from(JSON.stringify(u.event))]); }
let gcMs = 0, gcN = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcMs += e.duration; gcN++; } }).observe({ entryTypes: ['gc'] });
async function run(from: number, n: number) {
  for (let i = from; i < from + n; i += 500) {
    const out: (string[] | Promise<string[]>)[] = [];
    for (let j = i; j < i + 500; j++) out.push(ing.handle(msgs[j]![0], msgs[j]![1]));
    const lines = await Promise.all(out);
    for (const l of lines) spool.stage(l);
    spool.flush();
  }
}
await run(0, 10000);
gcMs = 0; gcN = 0;
const allocations = process.env.INGEST_ALLOC === '1' ? await startAllocationSampling() : undefined;
const c0 = process.cpuUsage(); const t0 = performance.now();
await run(10000, N);
const c = process.cpuUsage(c0);
if (allocations) await allocations();
console.log(`${N} uplinks: ${((c.user + c.system) / N).toFixed(1)} µs CPU/uplink (all threads), wall ${((performance.now() - t0) * 1000 / N).toFixed(1)} µs, GC ${gcN} × = ${gcMs.toFixed(0)} ms`);
custom.stop(); spool.close();

/** Starts V8's sampling heap profiler; the function it returns stops it and prints bytes per uplink by function. */
async function startAllocationSampling(): Promise<() => Promise<void>> {
  type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // The two include* options are in the DevTools protocol but not yet in Node's typings.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.INGEST_ALLOC_MINOR !== '0' } as never);
  return async () => {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
    const byFunction = new Map<string, number>();
    let total = 0;
    const walk = (n: Node) => {
      const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + n.selfSize);
      total += n.selfSize;
      for (const child of n.children) walk(child);
    };
    walk(profile.head);
    console.log(`allocated about ${(total / N).toFixed(0)} B per uplink on the main thread; by function:`);
    for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(bytes / N).toFixed(0).padStart(7)} B  ${key}`);
    session.disconnect();
  };
}
