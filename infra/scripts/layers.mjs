#!/usr/bin/env node
// The layering check of `npm test` (docs/architecture.md, issue 16 item 5): reads every import of the production
// sources, resolves the relative ones and fails on an import that goes up the table or on an import cycle.
// A small script rather than dependency-cruiser: it needs no TypeScript compiler API (TypeScript 7 has none),
// runs on any Node in well under a second, and its rules are the table's, in one place below.
// Usage: node infra/scripts/layers.mjs [--root DIR]   (--root: check another tree, for the check's own test)
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const argRoot = process.argv.indexOf('--root');
const root = argRoot > 0 ? resolve(process.argv[argRoot + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCES = ['decoders', 'services', 'dashboards'];

// Rooms of the lower floors and the rooms each may import (its own room always allowed). A module outside
// these rooms (alerts, reports, api, console, http, service.ts, cli, …) is above them: the rules below make
// every import from a lower room into an upper one a violation, whatever the upper room is.
const LOWER = {
  'decoders': ['decoders'],
  // Local time, site calendars and the one site lookup: pure computation every room may use.
  'services/time': [],
  'services/lns': ['decoders/model'],
  // storage records what the lower rooms produce: decoded readings, the network server's event, the device's place.
  'services/storage': ['decoders', 'services/lns', 'services/registry'],
  'services/registry': ['services/lns', 'decoders/model', 'services/time'],
  'services/mqtt': ['services/storage', 'services/lns'],
  // The cluster mode (issue 17): relays the broker into JetStream (with mqtt's consumer) and consumes partitions.
  'services/cluster': ['services/mqtt', 'services/storage', 'services/lns'],
  'services/pipeline': ['services/lns', 'services/registry', 'services/storage', 'decoders',
    // pipeline/ingest runs the stream rules and hands their events on (issue 16 item 2 keeps that call):
    'services/alerts'],
};
// The upper floors, each kept from the rooms above it (tools and wiring at the very top).
const TOP = ['services/http', 'services/cli', 'services/demo', 'services/simulator', 'services/dev', 'services/service.ts', 'services/service-cluster.ts'];
const FORBIDDEN = {
  'services/alerts': ['services/reports', 'services/api', 'services/console', 'services/grafana', ...TOP],
  'services/reports': ['services/api', 'services/console', 'services/grafana', ...TOP],
  // The server-room KPIs (PUE) are a building block of rules D2/D4 and of the reports: below both.
  'services/datacenter': ['services/alerts', 'services/reports', 'services/api', 'services/console', 'services/grafana', ...TOP],
  'services/rollups': ['services/api', 'services/console', 'services/grafana', 'services/reports', ...TOP],
  'services/retention': ['services/api', 'services/console', 'services/grafana', 'services/reports', ...TOP],
  'services/audit': ['services/api', 'services/console', 'services/grafana', 'services/reports', ...TOP],
  'services/api': ['services/console', 'services/grafana', ...TOP],
  'services/console': ['services/grafana', ...TOP],
  'services/grafana': ['services/console', ...TOP],
  'dashboards': ['services/api', 'services/console', 'services/grafana', 'services/alerts', 'services/pipeline', ...TOP],
};

// Shared leaf modules any room may use (logging, metrics, CSV, radio arithmetic); they import nothing of the rooms.
const SHARED = ['services/logger.ts', 'services/metrics.ts', 'services/csv.ts', 'services/radio'];
const SHARED_ALLOWED = [...SHARED, 'decoders/model'];

// Known violations kept for now, each as [from, to, reason], left out of the cycle search too (`*` ends a prefix).
// The check fails if one no longer occurs, so that the list stays true.
// Empty on purpose: the last two (simulator town ⇄ envelopes, console pages ⇄ plugin) were split into
// simulator/device.ts and console/page.ts. The mechanism stays for a violation that must be kept for a while.
const KNOWN = [];
const matches = (pattern, file) => (pattern.endsWith('*') ? file.startsWith(pattern.slice(0, -1)) : file === pattern);

const under = (file, room) => file === room || file.startsWith(room + '/');
const roomOf = (file) => Object.keys(LOWER).filter((r) => under(file, r)).sort((a, b) => b.length - a.length)[0];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !/\.d\.ts$/.test(name)) out.push(p);
  }
  return out;
}

// Import specifiers: static imports and re-exports (type-only ones too: a type is a dependency of the design),
// bare side-effect imports and dynamic import('…') with a literal. Comments are removed first.
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
  for (let m; (m = re.exec(code)); ) out.push(m[2]);
  return out;
}

function resolveSpec(fromAbs, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(fromAbs), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base + '.ts', join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

const files = SOURCES.filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d)));
const rel = (abs) => relative(root, abs).split(sep).join('/');
const graph = new Map();
for (const abs of files) {
  const deps = [];
  for (const spec of specifiers(readFileSync(abs, 'utf8'))) {
    const target = resolveSpec(abs, spec);
    if (target) deps.push(rel(target));
  }
  graph.set(rel(abs), deps);
}

const problems = [];
const known = new Set();
function isKnown(from, to) {
  const k = KNOWN.find(([f, t]) => matches(f, from) && matches(t, to));
  if (k) known.add(k);
  return Boolean(k);
}
for (const [from, deps] of graph) {
  const room = roomOf(from);
  const shared = SHARED.some((s) => under(from, s));
  for (const to of deps) {
    let allowed;
    if (shared) allowed = SHARED_ALLOWED.some((s) => under(to, s));
    else if (room) allowed = under(to, room) || LOWER[room].some((r) => under(to, r)) || (room !== 'decoders' && SHARED.some((s) => under(to, s)));
    else {
      const upper = Object.keys(FORBIDDEN).filter((r) => under(from, r)).sort((a, b) => b.length - a.length)[0];
      const bad = upper && FORBIDDEN[upper].find((r) => under(to, r));
      if (bad && !isKnown(from, to)) problems.push(`upward import: ${from} → ${to} (${upper} may not import ${bad})`);
      continue;
    }
    if (allowed) continue;
    if (isKnown(from, to)) continue;
    problems.push(`upward import: ${from} → ${to} (${shared ? 'a shared module' : room} may import only ${(shared ? SHARED_ALLOWED : LOWER[room]).join(', ')})`);
  }
}

// Cycles between modules (Tarjan's strongly connected components), type-only imports included.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], onStack = new Set();
function strong(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w) || isKnown(v, w)) continue;
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) problems.push(`import cycle: ${comp.sort().join(' ⇄ ')}`);
  }
}
for (const v of graph.keys()) if (!idx.has(v)) strong(v);
for (const k of KNOWN) if (!known.has(k)) problems.push(`known violation no longer present, remove it from KNOWN: ${k[0]} → ${k[1]}`);

if (problems.length) {
  console.error(`layers: ${problems.length} problem(s) in ${graph.size} modules (rules: docs/architecture.md)`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log(`layers: ${graph.size} modules, no upward import, no cycle`);
