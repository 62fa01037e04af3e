/**
 * Every figure an alert shows has a label in both languages: the keys each rule can put in `measured` and
 * `thresholds`, found in the rules' source (so a key added to a rule without its label fails here), and the words
 * it can put as values ('yes', 'wet', 'learnt'…). The console shows `fields` and `fieldValues` of its catalogues.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../decoders/model/roles.ts';
import { ruleFieldLabels } from '../../services/alerts/catalogue.ts';
import { PUE_CATEGORIES } from '../../services/datacenter/kpi.ts';
import { en } from '../../services/console/i18n/en.ts';
import { fr } from '../../services/console/i18n/fr.ts';

// Every module under rules/: a rule added in a new file is checked without listing it here.
const RULE_FILES = readdirSync('services/alerts/rules').filter((f) => f.endsWith('.ts')).map((f) => `services/alerts/rules/${f}`);

/**
 * The source with comments and the contents of string and template literals blanked (same length), so that
 * braces, commas and colons inside texts do not count; plain string literals outside templates are returned with
 * their position. Template placeholders (`${…}`, which may hold strings and templates of their own) are blanked
 * with their template.
 */
function skeleton(src: string): { text: string; strings: { at: number; value: string }[] } {
  const out = src.split('');
  const strings: { at: number; value: string }[] = [];
  // One entry per open template: the brace depth of the placeholder code under way in it (-1: in the text).
  const templates: number[] = [];
  const blank = (i: number) => {
    if (src[i] !== '\n') out[i] = ' ';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const inTemplate = templates.length > 0;
    const depth = templates.at(-1);
    if (inTemplate) blank(i);
    if (inTemplate && depth === -1) {
      if (c === '\\') blank(++i);
      else if (c === '`') templates.pop();
      else if (c === '$' && src[i + 1] === '{') {
        blank(++i);
        templates[templates.length - 1] = 0;
      }
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') blank(i++);
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2) + 2;
      for (; i < end; i++) blank(i);
      i--;
    } else if (c === '`') {
      templates.push(-1);
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      for (i++; i < src.length && src[i] !== c; i++) {
        if (src[i] === '\\') blank(i++);
        value += src[i];
        blank(i);
      }
      if (inTemplate) blank(i);
      else strings.push({ at: start, value });
    } else if (inTemplate && c === '{') templates[templates.length - 1] = depth! + 1;
    else if (inTemplate && c === '}') templates[templates.length - 1] = depth! - 1;
  }
  return { text: out.join(''), strings };
}

/**
 * The end (exclusive) of the expression starting at `from`: the first `,` `}` `)` `]` or `;` at depth 0; with
 * `commas` false, the first closing bracket at depth 0 (the end of a list of members).
 */
function expressionEnd(text: string, from: number, commas = true): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) {
      if (depth === 0) return i;
      depth--;
    } else if (commas && (c === ',' || c === ';') && depth === 0) return i;
  }
  return text.length;
}

/** Keys of the object literals an expression can evaluate to (literal, ternary branches, spreads of either). */
function objectKeys(text: string, from: number, to: number, keys: Set<string>, values: [number, number][]): void {
  for (let i = from; i < to; i++) {
    if (text[i] !== '{') continue;
    const before = text.slice(from, i).trimEnd().at(-1);
    if (before !== undefined && !'?:(,'.includes(before)) continue;
    const close = expressionEnd(text, i + 1, false);
    // Members of the literal, split at its top-level commas.
    for (let m = i + 1; m < close; ) {
      const end = expressionEnd(text, m);
      const member = text.slice(m, end);
      const spread = /^\s*\.\.\./.exec(member);
      const keyed = /^\s*([A-Za-z_$][\w$]*|\[[^\]]+\])\s*:/.exec(member);
      const shorthand = /^\s*([A-Za-z_$][\w$]*)\s*$/.exec(member);
      if (spread) objectKeys(text, m + spread[0].length, end, keys, values);
      else if (keyed) {
        keys.add(keyed[1]!);
        values.push([m + keyed[0].length, end]);
      } else if (shorthand) keys.add(shorthand[1]!);
      m = end + 1;
    }
    i = close;
  }
}

/** Every key a rule can put in `measured` or `thresholds`, and the words it can put as values. */
function ruleFields(): { keys: Set<string>; words: Set<string> } {
  const keys = new Set<string>();
  const words = new Set<string>();
  for (const file of RULE_FILES) {
    const src = readFileSync(file, 'utf8');
    const { text, strings } = skeleton(src);
    const values: [number, number][] = [];
    for (const m of text.matchAll(/\b(measured|thresholds)\s*:\s*/g)) {
      const start = m.index + m[0].length;
      const before = new Set(keys);
      objectKeys(text, start, expressionEnd(text, start), keys, values);
      // `measured: { [quantity]: … }` in meterFlag: the quantities it is called with.
      if (keys.has('[quantity]') && !before.has('[quantity]')) for (const call of src.matchAll(/meterFlag\(\s*'[^']+',\s*'([^']+)'/g)) keys.add(call[1]!);
    }
    for (const s of strings) if (values.some(([a, b]) => s.at >= a && s.at < b) && /^[a-z][a-z/-]*$/i.test(s.value)) words.add(s.value);
  }
  keys.delete('[quantity]');
  return { keys, words };
}

describe('labels of the figures of alerts', () => {
  const { keys, words } = ruleFields();

  it('finds the keys of every rule in their source, spreads, ternaries and shorthands included', () => {
    expect(keys.size).toBeGreaterThan(100);
    // E2's closure (plain keys), W6's last increase (conditional spread), S2's volts (ternary), P1's sf and role
    // (shorthands), W3's flag (computed key), E4's night (template value).
    for (const k of ['ongoing', 'unoccupied_from', 'unoccupied_to', 'mean_from', 'mean_to', 'last_increase_day', 'battery_v', 'sf', 'role', 'water.alarm.burst', 'water.alarm.backflow', 'night', 'limit_pue']) {
      expect(keys, k).toContain(k);
    }
    for (const w of ['yes', 'no', 'wet', 'dry', 'on', 'off', 'learnt', 'configured', 'ok', 'n/a']) expect(words, w).toContain(w);
    // Texts are not keys: E4's "00:00-05:00" and the sentences' colons.
    expect([...keys].filter((k) => !/^[a-z][\w.]*$/.test(k))).toEqual([]);
  });

  it('every key has a label in French and in English (in the catalogues or in its rule’s definition)', () => {
    const own = (lang: 'fr' | 'en') => Object.fromEntries([...ruleFieldLabels()].map(([k, text]) => [k, text[lang]]));
    const missing = (labels: Record<string, string>) => [...keys].filter((k) => !labels[k]?.trim()).sort();
    expect(missing({ ...own('fr'), ...fr.fields }), 'fr').toEqual([]);
    expect(missing({ ...own('en'), ...en.fields }), 'en').toEqual([]);
    // A rule's own label is for a key of its figures, in both languages, and not a copy of the catalogue's.
    for (const [k, text] of ruleFieldLabels()) {
      expect(keys, k).toContain(k);
      expect(text.fr.trim() && text.en.trim() && text.fr !== text.en, k).toBeTruthy();
      expect(fr.fields[k], `${k} is labelled in both places`).toBeUndefined();
    }
  });

  it('every word a rule writes as a value is translated, and so are the roles and PUE categories it quotes', () => {
    const all = [...words, 'humid', ...Object.values(ROLES), ...Object.values(PUE_CATEGORIES), 'unknown'];
    const missing = (values: Record<string, string>) => all.filter((w) => !values[w]?.trim()).sort();
    expect(missing(fr.fieldValues), 'fr').toEqual([]);
    expect(missing(en.fieldValues), 'en').toEqual([]);
  });

  it('French and English catalogues label the same keys and values', () => {
    expect(Object.keys(en.fields).sort()).toEqual(Object.keys(fr.fields).sort());
    expect(Object.keys(en.fieldValues).sort()).toEqual(Object.keys(fr.fieldValues).sort());
  });
});
