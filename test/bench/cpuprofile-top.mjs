#!/usr/bin/env node
/**
 * The functions that cost the most in a V8 CPU profile (`node --cpu-prof`), by self time and by inclusive time
 * (docs/performance.md). Usage: node test/bench/cpuprofile-top.mjs FILE.cpuprofile [SELF_ROWS] [INCLUSIVE_ROWS]
 */
import { readFileSync } from 'node:fs';

const [file, selfRows = '30', inclusiveRows = '40'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node test/bench/cpuprofile-top.mjs FILE.cpuprofile [SELF_ROWS] [INCLUSIVE_ROWS]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

// Time per sampled node (µs), then attributed to the node itself (self) and to each distinct frame above it.
const perNode = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  perNode.set(id, (perNode.get(id) ?? 0) + dt);
  total += dt;
});
const self = new Map();
const inclusive = new Map();
for (const [id, t] of perNode) {
  const k = label(byId.get(id));
  self.set(k, (self.get(k) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const key = label(byId.get(cur));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
const top = (m, rows) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(rows))
    .map(([k, t]) => `${(t / 1000).toFixed(0).padStart(8)} ms ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n\nself time\n${top(self, selfRows)}\n\ninclusive time\n${top(inclusive, inclusiveRows)}\n`);
