/**
 * Registry-wide invariants of the alert rules (services/alerts/rules/index.ts): whatever rule is added, it has a
 * scenario where it must fire and one where it must not, texts in French and English, a source that is a published
 * text, and defaults its own site-parameter schema accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RuleDefinition } from '../../services/alerts/rules/define.ts';
import { RULES, type RuleId } from '../../services/alerts/rules/index.ts';

const rules = RULES as readonly RuleDefinition[];

/**
 * Where each rule is shown to fire, and shown to stay quiet (file and test title; one test may show both). A rule
 * missing here fails below: add its scenarios with it.
 */
const SCENARIOS: Record<RuleId, { file: string; fires: string; quiet: string }> = {
  W7: { file: 'test/unit/alerts.test.ts', fires: 'opens a critical alert at once, explained in French and English, and resolves when dry', quiet: 'says nothing about an uplink without a leak reading' },
  W3: {
    file: 'test/integration/stream-rules.test.ts',
    fires: 'raises W3 on burst, W4 on backflow and W5 on dry pipe, each resolved by the next report without flag; nothing for hours of plain reports',
    quiet: 'raises W3 on burst, W4 on backflow and W5 on dry pipe, each resolved by the next report without flag; nothing for hours of plain reports',
  },
  W4: {
    file: 'test/integration/stream-rules.test.ts',
    fires: 'raises W3 on burst, W4 on backflow and W5 on dry pipe, each resolved by the next report without flag; nothing for hours of plain reports',
    quiet: 'raises W3 on burst, W4 on backflow and W5 on dry pipe, each resolved by the next report without flag; nothing for hours of plain reports',
  },
  W5: {
    file: 'test/integration/stream-rules.test.ts',
    fires: 'raises W5 on a tamper alarm frame (The Things Stack), not on leakage or freeze flags',
    quiet: 'raises W5 on a tamper alarm frame (The Things Stack), not on leakage or freeze flags',
  },
  A1: {
    file: 'test/integration/stream-rules.test.ts',
    fires: 'fires in class after 10 min above 800 ppm, escalates at 1,620 ppm, resolves after 10 min clear; not at 1,200 ppm in the empty school at night',
    quiet: 'does not fire on 9 min above 800 ppm in occupied hours, nor on 795 ppm for an hour',
  },
  D1: {
    file: 'test/integration/stream-rules.test.ts',
    fires: 'fires critical at once at 32.6 °C; not on an inlet at 26.5 °C for an hour',
    quiet: 'leaves the same sensor model alone outside a server room (outdoor, 33.5 °C for an hour)',
  },
  S2: { file: 'test/integration/stream-rules.test.ts', fires: 'fires on a level of 9 % and resolves when the battery is replaced', quiet: 'does not fire at exactly 10 %' },
  W1: {
    file: 'test/integration/windowed-rules.test.ts',
    fires: 'W1 fires on a flow that never stops (14 L/h), not on a household with night toilet flushes',
    quiet: 'W1 fires on a flow that never stops (14 L/h), not on a household with night toilet flushes',
  },
  W2: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a meter whose night minimum went from 4 to 30 L/h, and not across the DST night on one with legitimate use around the window',
    quiet: 'fires on a meter whose night minimum went from 4 to 30 L/h, and not across the DST night on one with legitimate use around the window',
  },
  W6: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a meter stuck for 3 weeks after 200 L a day, not on one still counting nor on a vacant building',
    quiet: 'fires on a meter stuck for 3 weeks after 200 L a day, not on one still counting nor on a vacant building',
  },
  W7S: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a sensor with an hourly heartbeat silent for 5 h, not on one still reporting; a configured heartbeat wins',
    quiet: 'fires on a sensor with an hourly heartbeat silent for 5 h, not on one still reporting; a configured heartbeat wins',
  },
  W8: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires when a district loses 4,000 L/day for 3 days against 2,000 ± 102, not on a steady district',
    quiet: 'fires when a district loses 4,000 L/day for 3 days against 2,000 ± 102, not on a steady district',
  },
  E1: { file: 'test/integration/sobriety-rules.test.ts', fires: 'fires on a building at 20.5 °C on average when occupied, not on one at 19 °C', quiet: 'does not fire outside the heating season' },
  E2: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a building kept at 17 °C over a 62 h weekend (limit 8 °C) and on one open on Saturdays at 17 °C over 38 h (limit 16 °C), not on one set back to 7.5 °C',
    quiet: 'fires on a building kept at 17 °C over a 62 h weekend (limit 8 °C) and on one open on Saturdays at 17 °C over 38 h (limit 16 °C), not on one set back to 7.5 °C',
  },
  E3: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a reading room cooled at 24 °C for 105 min, not on one at 28 °C, nor in the server room or for an exempted device',
    quiet: 'fires on a reading room cooled at 24 °C for 105 min, not on one at 28 °C, nor in the server room or for an exempted device',
  },
  E4: {
    file: 'test/integration/windowed-rules.test.ts',
    fires: 'E4 fires on a building drawing 65 % of its day load at night, not on one at 16 %, across the spring DST night',
    quiet: 'E4 fires on a building drawing 65 % of its day load at night, not on one at 16 %, across the spring DST night',
  },
  E5: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a heat meter at 12 kWh/DJU in February 2026 against 10 in February 2025, not on a meter at +5 %',
    quiet: 'fires on a heat meter at 12 kWh/DJU in February 2026 against 10 in February 2025, not on a meter at +5 %',
  },
  D2: {
    file: 'test/integration/windowed-rules.test.ts',
    fires: 'D2 fires on a server room at 19.5 °C on average, not on one at 24 °C',
    quiet: 'D2 fires on a server room at 19.5 °C on average, not on one at 24 °C',
  },
  D3: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a humid inlet (dew point 18.2 °C) and a dry one (−13.8 °C), waits on one humid for 20 min only, not on one at 45 %',
    quiet: 'fires on a humid inlet (dew point 18.2 °C) and a dry one (−13.8 °C), waits on one humid for 20 min only, not on one at 45 %',
  },
  D4: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a room at PUE 1.8 for 30 days against 1.52 over 12 months, and on a young one at 2.3; not on a steady one at 1.4',
    quiet: 'fires on a room at PUE 1.8 for 30 days against 1.52 over 12 months, and on a young one at 2.3; not on a steady one at 1.4',
  },
  S1: {
    file: 'test/integration/windowed-rules.test.ts',
    fires: 'S1 fires on a device silent for 10 h that used to talk every 15 min, not on one still talking',
    quiet: 'S1 fires on a device silent for 10 h that used to talk every 15 min, not on one still talking',
  },
  P1: {
    file: 'test/integration/sobriety-rules.test.ts',
    fires: 'fires on a meter at SF12 every 15 min (174 s on air) and on a room sensor reporting 600 times a day, not on one every 10 min at SF7',
    quiet: 'fires on a meter at SF12 every 15 min (174 s on air) and on a room sensor reporting 600 times a day, not on one every 10 min at SF7',
  },
};

/** A file name: a word followed by a file extension ("domain-rules.md", "settings.ts"). */
const FILE_NAME = /[\w-]+\.(md|markdown|ts|js|mjs|cjs|json|ya?ml|toml|txt|html?|csv|pdf|docx?|xlsx?|py)\b/i;

/** The titles of the tests a file runs (`it('…'` with any quote), skipped or focused ones left out. */
function testTitles(file: string): Set<string> {
  const src = readFileSync(file, 'utf8');
  const titles = new Set<string>();
  for (const m of src.matchAll(/\bit\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g)) titles.add(m[2]!.replace(/\\(.)/g, '$1'));
  return titles;
}

describe('alert rule registry', () => {
  it('holds each rule once, under the id its info gives, stream rules first', () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rules) expect(r.info.id, r.id).toBe(r.id);
    const kinds = rules.map((r) => r.kind);
    expect(kinds.lastIndexOf('stream')).toBeLessThan(kinds.indexOf('windowed'));
  });

  it('every rule has a must-fire and a must-not-fire scenario, in a test that runs', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(rules.map((r) => r.id).sort());
    const titles = new Map<string, Set<string>>();
    for (const r of rules) {
      const s = SCENARIOS[r.id as RuleId];
      if (!titles.has(s.file)) titles.set(s.file, testTitles(s.file));
      expect(titles.get(s.file), `${r.id}: must-fire scenario in ${s.file}`).toContain(s.fires);
      expect(titles.get(s.file), `${r.id}: must-not-fire scenario in ${s.file}`).toContain(s.quiet);
      // The title says both: that it fires, and where it does not.
      expect(`${s.fires} ${s.quiet}`, r.id).toMatch(/\b(fires|raises|opens)\b/);
      expect(`${s.fires} ${s.quiet}`, r.id).toMatch(/\b(not|nothing|leaves|alone)\b/);
    }
  });

  it('the scenario check catches a missing or skipped test', () => {
    const file = 'test/unit/alert-registry.test.ts';
    expect(testTitles(file)).toContain('the scenario check catches a missing or skipped test');
    expect(testTitles(file)).not.toContain('a title that no test has');
  });

  it('every text a person reads is in French and in English', () => {
    for (const r of rules) {
      const description = r.description(r.defaults);
      for (const [what, text] of Object.entries({ title: r.info.title, action: r.info.action, description, source: r.info.source.text })) {
        expect(text.fr.trim().length, `${r.id} ${what} fr`).toBeGreaterThan(3);
        expect(text.en.trim().length, `${r.id} ${what} en`).toBeGreaterThan(3);
        expect(text.fr, `${r.id} ${what}`).not.toBe(text.en);
        // French typography: a space before the colon and the semicolon.
        expect(text.fr, `${r.id} ${what}`).not.toMatch(/\S[:;](\s|$)/);
      }
    }
  });

  it('every source is a published text named by its title, never a file', () => {
    for (const r of rules) {
      const { reference, text } = r.info.source;
      expect(reference, r.id).not.toMatch(FILE_NAME);
      expect(reference.split(/\s+/).length, r.id).toBeGreaterThanOrEqual(3);
      for (const lang of ['fr', 'en'] as const) expect(text[lang], `${r.id} ${lang}`).not.toMatch(FILE_NAME);
    }
  });

  it('the descriptions take their numbers from the defaults', () => {
    const w1 = rules.find((r) => r.id === 'W1')!;
    expect(w1.description(w1.defaults).fr).toContain('≥ 10 L');
    expect(w1.description({ ...w1.defaults, minLitresPerHour: 20 }).fr).toContain('≥ 20 L');
    const a1 = rules.find((r) => r.id === 'A1')!;
    expect(a1.description({ ...a1.defaults, warnPpm: 1000 }).en).toContain('CO₂ > 1,000 ppm');
  });

  it('every site parameter has a default its own schema accepts', () => {
    for (const r of rules) {
      for (const [name, schema] of Object.entries(r.siteParameters)) {
        expect(r.defaults, `${r.id}.${name}`).toHaveProperty(name);
        expect(schema!.safeParse((r.defaults as Record<string, unknown>)[name]).success, `${r.id}.${name}`).toBe(true);
      }
    }
  });

  it('no rule module imports the registry or what is derived from it (no cycle between the rules and the engine)', () => {
    const derived = /from '\.\.\/(settings|catalogue|engine|scheduler|backtest|sink|store)\.ts'|from '\.\/index\.ts'/;
    const files = readdirSync('services/alerts/rules').filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(files).toContain('define.ts');
    for (const f of files) expect(readFileSync(`services/alerts/rules/${f}`, 'utf8'), f).not.toMatch(derived);
    expect("import { RULES } from '../settings.ts';").toMatch(derived);
  });
});
