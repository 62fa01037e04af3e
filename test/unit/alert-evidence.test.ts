/**
 * Registry-wide invariants of what each rule declares beside its logic (services/alerts/rules/define.ts): the
 * devices it judges (`reads`), from which the parsimony report's reporting needs cite it, and the series the console
 * draws as its evidence (`evidence`), from which console/evidence.ts derives its table. A new rule that forgets
 * either, names a quantity or a role that does not exist, or draws a threshold its alerts do not carry fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import type { Alert } from '../../services/alerts/model.ts';
import type { RuleDefinition } from '../../services/alerts/rules/define.ts';
import { RULES } from '../../services/alerts/rules/index.ts';
import { EVIDENCE } from '../../services/console/evidence.ts';
import { REPORTING_NEEDS, rulesReading } from '../../services/reports/parsimony.ts';

const rules = RULES as readonly RuleDefinition[];
const ROLE_IDS: readonly string[] = Object.values(ROLES);
const RULE_SOURCES = readdirSync('services/alerts/rules')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(`services/alerts/rules/${f}`, 'utf8'));

/** Where the block opened by the `{` at `open` closes. */
function closing(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return i;
  }
  return src.length;
}

const INFO = /\bid: '([\w-]+)',\s*\n\s*version:/g;

/**
 * The keys a rule puts in its findings' `thresholds` and `measured` literals, read in its source: from its
 * RuleInfo (`id: 'X', version: …`) to the next rule's or the list of definitions. Undefined when the rule's info
 * is not written out (rules made by a helper, such as W3–W5).
 */
function figureKeys(id: string): { thresholds: Set<string>; measured: Set<string> } | undefined {
  for (const src of RULE_SOURCES) {
    const infos = [...src.matchAll(INFO)];
    const at = infos.findIndex((m) => m[1] === id);
    if (at < 0) continue;
    const from = infos[at]!.index;
    const ends = [infos[at + 1]?.index, src.indexOf('defineRule({', from)].filter((x): x is number => x !== undefined && x > from);
    const region = src.slice(from, ends.length ? Math.min(...ends) : src.length);
    const keys = { thresholds: new Set<string>(), measured: new Set<string>() };
    for (const m of region.matchAll(/\b(thresholds|measured): \{/g)) {
      const open = m.index + m[0].length - 1;
      for (const k of region.slice(open, closing(region, open)).matchAll(/([A-Za-z_]\w*)\s*:/g)) keys[m[1] as 'thresholds' | 'measured'].add(k[1]!);
    }
    return keys;
  }
  return undefined;
}

/** The figures a threshold function reads (`thresholds.x`, `measured.y`). */
function keysRead(fn: (...args: never[]) => unknown): { where: 'thresholds' | 'measured'; key: string }[] {
  return [...fn.toString().matchAll(/\b(thresholds|measured)\.(\w+)/g)].map((m) => ({ where: m[1] as 'thresholds' | 'measured', key: m[2]! }));
}

describe('what each rule declares: the devices it reads and its evidence', () => {
  it('the source reading finds the keys of a rule, and only of that rule', () => {
    const w1 = figureKeys('W1')!;
    expect([...w1.thresholds]).toEqual(['min_l_per_h', 'window_h']);
    expect(w1.measured).not.toContain('limit_l_per_h'); // W2's
    expect(figureKeys('E4')!.measured).toContain('occupied_median_kwh_per_h');
    expect(figureKeys('D4')!.thresholds).toContain('limit_pue'); // in a conditional spread
    expect(figureKeys('NOPE')).toBeUndefined();
    expect(keysRead(({ thresholds, measured }: { thresholds: Record<string, number>; measured: Record<string, number> }) => thresholds.a! * measured.b!)).toEqual([
      { where: 'thresholds', key: 'a' },
      { where: 'measured', key: 'b' },
    ]);
  });

  it('every rule says which devices it judges: known roles, or every device alike', () => {
    for (const r of rules) {
      expect(r.reads, `${r.id}: no reads declaration`).toBeDefined();
      if (r.reads === 'every device') continue;
      expect(r.reads!.length, r.id).toBeGreaterThan(0);
      for (const role of r.reads!) expect(ROLE_IDS, `${r.id} reads ${role}`).toContain(role);
    }
  });

  it('every rule states its evidence, or null when it rests on no series; each names a real quantity and threshold', () => {
    for (const r of rules) {
      expect(r.evidence, `${r.id}: no evidence declaration (null if the rule draws no series)`).not.toBeUndefined();
      const e = r.evidence;
      if (!e) continue;
      expect(Object.keys(QUANTITIES), r.id).toContain(e.quantity);
      expect(['raw', 'hourly'], r.id).toContain(e.aggregation);
      for (const role of e.roles ?? []) expect(ROLE_IDS, `${r.id} evidence role ${role}`).toContain(role);
      if (e.scale) expect(e.scale.factor, r.id).toBeGreaterThan(0);
      if (e.threshold === undefined) continue;
      const lines = Array.isArray(e.threshold) ? e.threshold : [e.threshold];
      expect(lines.length, `${r.id}: an empty list of threshold lines should be left out`).toBeGreaterThan(0);
      for (const t of lines) {
        if (typeof t === 'number') {
          expect(Number.isFinite(t), r.id).toBe(true);
          continue;
        }
        const keys = figureKeys(r.id);
        expect(keys, `${r.id}: its RuleInfo and findings are not found in services/alerts/rules/`).toBeDefined();
        if (typeof t === 'string') expect([...keys!.thresholds], `${r.id}: evidence threshold '${t}' is not a key of its thresholds`).toContain(t);
        else {
          const read = keysRead(t);
          expect(read.length, `${r.id}: a threshold function that reads no figure should be a number`).toBeGreaterThan(0);
          for (const { where, key } of read) expect([...keys![where]], `${r.id}: its evidence reads ${where}.${key}`).toContain(key);
        }
      }
    }
  });

  it('a rule that draws a series or reads roles is cited in the reporting needs of each role it reads', () => {
    for (const r of rules) {
      if (r.evidence) expect(r.reads, `${r.id} draws a series but says no devices it reads`).toBeDefined();
      if (!Array.isArray(r.reads)) continue;
      for (const role of r.reads) {
        expect(REPORTING_NEEDS[role], `${r.id} reads ${role}, a role without reporting needs`).toBeDefined();
        expect(REPORTING_NEEDS[role]!.rules, role).toContain(r.id);
      }
    }
    // And nothing else: each role lists exactly the rules that read it.
    for (const [role, need] of Object.entries(REPORTING_NEEDS)) expect(need.rules, role).toEqual(rulesReading(role));
    expect(REPORTING_NEEDS[ROLES.room]!.rules).toEqual(['A1', 'A2', 'E1', 'E2', 'E3']);
    expect(REPORTING_NEEDS[ROLES.waterMain]!.rules).toEqual(['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W8']);
    expect(REPORTING_NEEDS[ROLES.other]!.rules).toEqual([]);
  });

  it('docs/reports.md lists the rules each role is read by as the report does', () => {
    const doc = readFileSync('docs/reports.md', 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `([a-z-]+)` \| [^|]+ \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    for (const [role, need] of Object.entries(REPORTING_NEEDS)) expect(rows.get(role), role).toBe(need.rules.join(', ') || '–');
  });
});

describe('the console evidence table, derived from the rules', () => {
  const WATER = { quantity: 'metering.water.total', aggregation: 'hourly', roles: [ROLES.waterMain, ROLES.districtInflow] };
  const ROOMS = [ROLES.room];
  const kwh = { factor: 0.001, unit: 'kWh' };
  // The table console/evidence.ts held by hand before the rules declared it (commit 3b74973), and A2 added: the
  // charts of the existing rules must not change.
  const BEFORE: Record<string, { quantity: string; aggregation: string; roles?: readonly string[]; scale?: object; line?: number | number[] }> = {
    W1: { ...WATER, line: 10 },
    W2: { ...WATER, line: 42 },
    W3: WATER,
    W4: WATER,
    W5: WATER,
    W6: WATER,
    W7: { quantity: 'water.leak', aggregation: 'raw' },
    W8: { quantity: 'metering.water.total', aggregation: 'hourly', roles: [ROLES.districtInflow] },
    E1: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, line: 19.5 },
    E2: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, line: 27 },
    E3: { quantity: 'air.temperature', aggregation: 'hourly', roles: ROOMS, line: 26 },
    // max_ratio × occupied_median_kwh_per_h
    E4: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.buildingMain], scale: kwh, line: 0.5 * 3.2 },
    E5: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.buildingMain], scale: kwh },
    A1: { quantity: 'air.co2', aggregation: 'raw', line: 800 },
    // Both class limits of the ICONE index.
    A2: { quantity: 'air.co2', aggregation: 'raw', roles: ROOMS, line: [1000, 1700] },
    D1: { quantity: 'air.temperature', aggregation: 'raw', roles: [ROLES.itInlet], line: 27 },
    D2: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.itInlet], line: 18 },
    D3: { quantity: 'air.relativeHumidity', aggregation: 'raw', roles: [ROLES.itInlet], line: 60 },
    D4: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.facilityTotal, ROLES.itLoad], scale: kwh },
    S2: { quantity: 'battery', aggregation: 'raw', line: 2.9 },
  };
  const thresholds = { min_l_per_h: 10, limit_l_per_h: 42, max_mean_c: 19.5, max_c: 27, max_indoor_c: 26, max_ratio: 0.5, warn_ppm: 800, below_c: 18, max_rh_pct: 60, min_v: 2.9, season: '10-01..05-20' };
  const measured = { occupied_median_kwh_per_h: 3.2 };
  const alertOf = (ruleId: string, text = false) =>
    ({
      ruleId,
      thresholds: text ? Object.fromEntries(Object.entries(thresholds).map(([k, v]) => [k, String(v)])) : thresholds,
      measured: text ? { occupied_median_kwh_per_h: '3.2' } : measured,
    }) as unknown as Alert;

  it('holds the same series, roles, scales and threshold lines as the table written by hand, and A2', () => {
    expect(Object.keys(EVIDENCE).sort()).toEqual(Object.keys(BEFORE).sort());
    for (const [id, want] of Object.entries(BEFORE)) {
      const { thresholds, ...spec } = EVIDENCE[id]!;
      const { line, ...series } = want;
      expect(JSON.parse(JSON.stringify(spec)), id).toEqual(series);
      const lines = line === undefined ? [] : Array.isArray(line) ? line : [line];
      expect(thresholds.length, id).toBe(lines.length);
      for (const text of [false, true]) {
        thresholds.forEach((f, i) => expect(f(alertOf(id, text)), `${id}${text ? ' (figures as text)' : ''}`).toBeCloseTo(lines[i]!, 9));
      }
    }
  });

  it('draws no line when the alert lacks the figure it is computed from', () => {
    const bare = { ruleId: 'E4', thresholds: { max_ratio: 0.5 }, measured: {} } as unknown as Alert;
    expect(EVIDENCE.E4!.thresholds[0]!(bare)).toBeUndefined();
    expect(EVIDENCE.W1!.thresholds[0]!({ ...bare, thresholds: { min_l_per_h: 'n/a' } } as unknown as Alert)).toBeUndefined();
    expect(EVIDENCE.W7S).toBeUndefined();
  });
});
