/**
 * Registry-wide invariants of the alert rules (services/alerts/rules/index.ts): whatever rule is added, it has a
 * scenario where it must fire and one where it must not, texts in French and English, a source that is a published
 * text, and defaults its own site-parameter schema accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RuleDefinition } from '../../services/alerts/rules/define.ts';
import { RULES } from '../../services/alerts/rules/index.ts';

const rules = RULES as readonly RuleDefinition[];

/**
 * A rule's scenarios are found by its id: a test that names it (in its own title or its describe's) and says that it
 * fires, and one that says where it does not (one test may say both: "W1 fires on …, not on …"). A new rule's test
 * is then enough; nothing to list here.
 */
const TEST_DIRS = ['test/unit', 'test/integration'];
const FIRES = /\b(fires|raises|opens)\b/;
const QUIET = /\b(not|nothing|leaves|alone)\b/;

/** Where the block opened by the first `{` at or after `from` closes (braces inside strings are rare in tests). */
function blockEnd(src: string, from: number): number {
  let depth = 0;
  for (let i = src.indexOf('{', from); i >= 0 && i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return i;
  }
  return src.length;
}

/** The tests of a source, each as "describe › test" (the describes around it); skipped or focused ones left out. */
function testTitles(src: string): string[] {
  const titles: string[] = [];
  const groups: { title: string; end: number }[] = [];
  for (const m of src.matchAll(/\b(describe|it)\(\s*(['"`])((?:(?!\2)[^\\]|\\.)*)\2/g)) {
    const title = m[3]!.replace(/\\(.)/g, '$1');
    while (groups.length && groups.at(-1)!.end < m.index) groups.pop();
    if (m[1] === 'describe') groups.push({ title, end: blockEnd(src, m.index) });
    else titles.push([...groups.map((g) => g.title), title].join(' › '));
  }
  return titles;
}

// This file left out: its own check below writes sample titles in a string.
const allTests = TEST_DIRS.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.test.ts') && f !== 'alert-registry.test.ts').flatMap((f) => testTitles(readFileSync(`${dir}/${f}`, 'utf8')).map((title) => ({ file: `${dir}/${f}`, title }))));

function scenariosOf(id: string, tests: { file: string; title: string }[]) {
  const named = tests.filter((t) => new RegExp(`(^|[^\\w])${id}([^\\w]|$)`).test(t.title));
  return { fires: named.filter((t) => FIRES.test(t.title)), quiet: named.filter((t) => QUIET.test(t.title)) };
}

/** A file name: a word followed by a file extension ("domain-rules.md", "settings.ts"). */
const FILE_NAME = /[\w-]+\.(md|markdown|ts|js|mjs|cjs|json|ya?ml|toml|txt|html?|csv|pdf|docx?|xlsx?|py)\b/i;

describe('alert rule registry', () => {
  it('holds each rule once, under the id its info gives, stream rules first', () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rules) expect(r.info.id, r.id).toBe(r.id);
    const kinds = rules.map((r) => r.kind);
    expect(kinds.lastIndexOf('stream')).toBeLessThan(kinds.indexOf('windowed'));
  });

  it('every rule has a must-fire and a must-not-fire scenario, in a test that runs', () => {
    for (const r of rules) {
      const { fires, quiet } = scenariosOf(r.id, allTests);
      expect(fires.length, `${r.id}: no test names it and says it fires`).toBeGreaterThan(0);
      expect(quiet.length, `${r.id}: no test names it and says where it does not fire`).toBeGreaterThan(0);
    }
  });

  it('the scenario search needs the id as a word, a test that runs, and both verdicts', () => {
    const tests = testTitles(`describe('W7 leak', () => { it('opens at once', () => {}); it.skip('W9 fires', () => {}); });
      it('W7S fires on a silent sensor', () => {}); it('D2 leaves a warm room alone', () => {});`).map((title) => ({ file: 'x', title }));
    expect(scenariosOf('W7', tests)).toMatchObject({ fires: [{ title: 'W7 leak › opens at once' }], quiet: [] });
    expect(scenariosOf('W9', tests)).toEqual({ fires: [], quiet: [] });
    expect(scenariosOf('D2', tests)).toMatchObject({ fires: [], quiet: [{ title: 'D2 leaves a warm room alone' }] });
    expect(scenariosOf('W7S', tests)).toMatchObject({ fires: [{ title: 'W7S fires on a silent sensor' }], quiet: [] });
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
