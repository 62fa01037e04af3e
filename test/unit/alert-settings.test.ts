/**
 * Per-site rule settings in the YAML file (validated, errors naming the path), how the rules apply them, and the
 * rule catalogue the API serves.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleCatalogue } from '../../services/alerts/catalogue.ts';
import { AlertBook } from '../../services/alerts/lifecycle.ts';
import type { Subject } from '../../services/alerts/model.ts';
import { nightMinimum } from '../../services/alerts/rules/water.ts';
import { siteRulesLookup } from '../../services/alerts/scheduler.ts';
import { inSeason, paramsFor, RULE_DEFAULTS, RULE_IDS } from '../../services/alerts/settings.ts';
import type { StreamInput } from '../../services/alerts/rules/define.ts';
import { defaultStreamRules } from '../../services/alerts/rules/index.ts';
import { ConfigError, loadFile } from '../../services/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'veilleur-rules-'));
const yaml = (text: string) => {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
};
const error = (text: string) => {
  const p = yaml(text);
  try {
    loadFile(p);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('per-site rule settings in the configuration file', () => {
  it('reads thresholds and enabled: false per site, and the rules apply them over the defaults', () => {
    const cfg = loadFile(yaml(`sites:
  - site: gymnase
    rules:
      W1: { minLitresPerHour: 20 }
      E3: { enabled: false }
      E1: { season: '10-15..05-05', maxMeanC: 19 }
  - tenant: agglo
    site: reservoir
    rules:
      W8: { sigmas: 4, connections: 1200 }
`));
    const lookup = siteRulesLookup(cfg.sites);
    expect(lookup('saint-veilleur', 'gymnase')).toEqual({ W1: { minLitresPerHour: 20 }, E3: { enabled: false }, E1: { season: '10-15..05-05', maxMeanC: 19 } });
    expect(paramsFor(lookup, 'W1', RULE_DEFAULTS.W1, 'saint-veilleur', 'gymnase')).toEqual({ ...RULE_DEFAULTS.W1, minLitresPerHour: 20 });
    expect(paramsFor(lookup, 'E3', RULE_DEFAULTS.E3, 'saint-veilleur', 'gymnase')).toBeUndefined();
    expect(paramsFor(lookup, 'W1', RULE_DEFAULTS.W1, 'saint-veilleur', 'mairie')).toBe(RULE_DEFAULTS.W1);
    // An entry naming its tenant applies to that tenant only.
    expect(paramsFor(lookup, 'W8', RULE_DEFAULTS.W8, 'agglo', 'reservoir')).toMatchObject({ sigmas: 4, connections: 1200, days: 3 });
    expect(paramsFor(lookup, 'W8', RULE_DEFAULTS.W8, 'other', 'reservoir')).toBe(RULE_DEFAULTS.W8);
  });

  it('names the path of an unknown rule, an unknown parameter, or a bad value, and what was expected', () => {
    expect(error('sites:\n  - site: s\n    rules:\n      W9: { enabled: false }\n')).toContain(`path sites[0].rules: unknown rule 'W9'; expected one of ${RULE_IDS.join(', ')}`);
    expect(error('sites:\n  - site: s\n    rules:\n      W1: { maxLitres: 3 }\n')).toContain("path sites[0].rules.W1: unknown parameter 'maxLitres' of rule W1; expected enabled, minLitresPerHour");
    // Windows are global: not a per-site parameter.
    expect(error('sites:\n  - site: s\n    rules:\n      W1: { windowHours: 48 }\n')).toContain("path sites[0].rules.W1: unknown parameter 'windowHours'");
    expect(error('sites:\n  - site: s\n    rules:\n      W1: { minLitresPerHour: -1 }\n')).toContain('path sites[0].rules.W1.minLitresPerHour: expected minLitresPerHour (L/h) of at least 0.1');
    expect(error('sites:\n  - site: s\n    rules:\n      E3: { enabled: "no" }\n')).toContain('path sites[0].rules.E3.enabled: expected true or false');
    expect(error("sites:\n  - site: s\n    rules:\n      E1: { season: '10-01..02-30' }\n")).toContain("path sites[0].rules.E1.season: expected real days of the year in 'MM-DD..MM-DD'");
    expect(error("sites:\n  - site: s\n    rules:\n      W2: { window: '02:00-02:30' }\n")).toContain('path sites[0].rules.W2.window: expected a window of at least one hour');
  });
});

describe('stream rules per site', () => {
  const subject = (site: string): Subject => ({ tenant: 't', site, devEui: `dev-${site}`, device: `salle-${site}` });
  const input = (site: string, min: number, values: StreamInput['values']): StreamInput => ({ subject: subject(site), role: 'room', at: new Date(Date.UTC(2026, 0, 12, 9, min)), values });

  it('uses the site’s CO₂ threshold and skips a rule a site disables', () => {
    const lookup = siteRulesLookup([
      { site: 'ecole', calendar: undefined as never, rules: { A1: { warnPpm: 1000 }, W7: { enabled: false } } },
    ]);
    const rules = defaultStreamRules(lookup);
    const a1 = rules.find((r) => r.info.id === 'A1')!;
    const book = new AlertBook();
    for (const site of ['ecole', 'mairie']) {
      book.apply(a1.evaluate(input(site, 0, { 'air.co2': 900 }))!);
      book.apply(a1.evaluate(input(site, 12, { 'air.co2': 910 }))!);
    }
    expect(book.list().map((a) => `${a.subject.site} ${a.thresholds.warn_ppm}`)).toEqual(['mairie 800']);
    const w7 = rules.find((r) => r.info.id === 'W7')!;
    expect(w7.evaluate(input('ecole', 0, { 'water.leak': true }))).toBeUndefined();
    expect(w7.evaluate(input('mairie', 0, { 'water.leak': true }))).toMatchObject({ firing: true, severity: 'critical' });
  });
});

describe('rule catalogue', () => {
  it('lists every rule once, with its kind, description, source, defaults and per-site parameters', () => {
    const catalogue = ruleCatalogue();
    expect(catalogue.map((r) => r.id).sort()).toEqual([...RULE_IDS].sort());
    expect(catalogue.filter((r) => r.kind === 'stream').map((r) => r.id)).toEqual(['W7', 'W3', 'W4', 'W5', 'A1', 'D1', 'S2']);
    for (const r of catalogue) {
      expect(r.description.fr.length, r.id).toBeGreaterThan(20);
      expect(r.description.en.length, r.id).toBeGreaterThan(20);
      expect(r.source.reference.length, r.id).toBeGreaterThan(20);
      expect(r.siteParameters[0]).toBe('enabled');
      for (const p of r.siteParameters.slice(1)) expect(r.defaults, `${r.id}.${p}`).toHaveProperty(p);
    }
    expect(catalogue.find((r) => r.id === 'W2')).toMatchObject({ kind: 'windowed', category: 'water', defaults: { factor: 1.5, minLitresPerHour: 10, window: '02:00-04:00' } });
    expect(catalogue.find((r) => r.id === 'E1')).toMatchObject({ defaults: { maxMeanC: 19.5, season: '10-01..05-20' }, siteParameters: ['enabled', 'maxMeanC', 'season'] });
    expect(catalogue.find((r) => r.id === 'P1')).toMatchObject({ kind: 'windowed', category: 'fleet', defaults: { maxAirtimeSecondsPerDay: 30, factor: 4 } });
  });
});

describe('heating season and night windows', () => {
  it('tells whether a date is in a season that crosses the new year', () => {
    expect(['2026-10-01', '2026-12-31', '2027-01-01', '2027-05-20'].map((d) => inSeason(d, '10-01..05-20'))).toEqual([true, true, true, true]);
    expect(['2026-09-30', '2027-05-21', '2027-07-14'].map((d) => inSeason(d, '10-01..05-20'))).toEqual([false, false, false]);
    expect(inSeason('2026-03-15', '03-01..03-31')).toBe(true);
  });

  it('takes the smallest rolling hour of the local window: 1 h on the spring night, 3 h on the autumn one', () => {
    // Constant 10 L/h except one quiet hour, 01:00-02:00 UTC: 03:00-04:00 CEST on 29 March, 02:00-03:00 CEST
    // (first pass) on 25 October, when 02:00-04:00 lasts three hours.
    const series = (start: string, quietUtcHour: number) => {
      const pts = [];
      let v = 0;
      for (let t = Date.parse(start), i = 0; i < 12 * 4; i++, t += 15 * 60_000) {
        pts.push({ t, v });
        if (new Date(t).getUTCHours() !== quietUtcHour) v += 2.5;
      }
      return pts;
    };
    expect(nightMinimum(series('2026-03-28T20:00:00Z', 1), '2026-03-29', '02:00-04:00', 'Europe/Paris')).toBe(0);
    expect(nightMinimum(series('2026-03-28T20:00:00Z', 2), '2026-03-29', '02:00-04:00', 'Europe/Paris')).toBe(10);
    expect(nightMinimum(series('2026-10-24T20:00:00Z', 0), '2026-10-25', '02:00-04:00', 'Europe/Paris')).toBe(0);
    expect(nightMinimum(series('2026-10-24T20:00:00Z', 2), '2026-10-25', '02:00-04:00', 'Europe/Paris')).toBe(0);
    expect(nightMinimum(series('2026-10-24T20:00:00Z', 3), '2026-10-25', '02:00-04:00', 'Europe/Paris')).toBe(10);
  });
});
