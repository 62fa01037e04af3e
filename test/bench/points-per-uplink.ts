/**
 * Points and bytes of line protocol per uplink of the simulated town (issue 15, item 3): the town's uplinks through
 * the ingestion path (parse, registry, built-in decoders, points) without servers, tallied per measurement.
 * `npx tsx test/bench/points-per-uplink.ts [N]` (default 20,000 uplinks of the scaled town used by `npm run bench`).
 */
import pino from 'pino';
import { createMetrics } from '../../services/metrics.ts';
import { builtInDecoders } from '../../services/pipeline/decode.ts';
import { Ingestor } from '../../services/pipeline/ingest.ts';
import { Registry } from '../../services/registry/registry.ts';
import { generateUplinks } from '../../services/simulator/generator.ts';
import { scaledTown, townRegistry } from '../../services/simulator/town.ts';

const N = Number(process.argv[2] ?? 20_000);
const devices = scaledTown(63);
const ingest = new Ingestor(new Registry(townRegistry(devices), 'default'), [builtInDecoders], createMetrics(), pino({ level: 'silent' }));
const per = new Map<string, { points: number; bytes: number; fields: number }>();
let n = 0;
for (const u of generateUplinks({ start: new Date('2025-01-01T00:00:00Z'), count: N, seed: 1, devices })) {
  const lines = ingest.handle(u.topic, Buffer.isBuffer(u.payload) ? u.payload : Buffer.from(u.payload));
  if (lines instanceof Promise) throw new Error('a built-in decoder answered asynchronously');
  n++;
  for (const l of lines) {
    const m = /^((?:[^,\\ ]|\\.)+)/.exec(l)![1]!;
    const body = l.split(/(?<!\\) /)[1] ?? '';
    const t = per.get(m) ?? { points: 0, bytes: 0, fields: 0 };
    t.points++;
    t.bytes += Buffer.byteLength(l) + 1;
    t.fields += body.split(/,(?=[a-z0-9_]+=)/).length;
    per.set(m, t);
  }
}
const total = { points: 0, bytes: 0, fields: 0 };
const rows = [...per.entries()].sort((a, b) => b[1].points - a[1].points);
for (const [, t] of rows) for (const k of ['points', 'bytes', 'fields'] as const) total[k] += t[k];
const f = (x: number, d = 2) => (x / n).toFixed(d);
process.stdout.write(`${n} uplinks: ${f(total.points)} points, ${f(total.fields, 1)} field values, ${f(total.bytes, 0)} bytes of line protocol per uplink\n`);
for (const [m, t] of rows) process.stdout.write(`  ${m.padEnd(18)} ${f(t.points)} points  ${f(t.fields, 1).padStart(5)} fields  ${f(t.bytes, 0).padStart(4)} bytes per uplink  (${Math.round(t.bytes / t.points)} bytes per point)\n`);
