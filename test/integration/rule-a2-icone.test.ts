/**
 * Rule A2, the daily confinement index ICONE of a room (services/alerts/rules/energy.ts), on CO₂ readings written to
 * a real InfluxDB: a classroom that must raise it (the index, the shares of time and the coverage checked), and
 * days that must not: well-ventilated air, a sensor that reported too little to judge, a day the school was closed.
 * Every scenario is on Thursday 15 January 2026 (Paris, UTC+1; default calendar: open 08:00-18:00 on weekdays),
 * judged on Friday at 01:00 local, in its own site.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleCatalogue } from '../../services/alerts/catalogue.ts';
import type { Finding } from '../../services/alerts/model.ts';
import type { WindowContext } from '../../services/alerts/rules/define.ts';
import { confinementIndexRule, icone } from '../../services/alerts/rules/energy.ts';
import { siteRulesSchema, type SiteRules } from '../../services/alerts/settings.ts';
import { fieldLabel } from '../../services/console/components.ts';
import type { PageContext } from '../../services/console/context.ts';
import { en } from '../../services/console/i18n/en.ts';
import { fr } from '../../services/console/i18n/fr.ts';
import { siteCalendarSchema, type SiteCalendar } from '../../services/time/calendar.ts';
import { startStack, windowContexts, writeLines, type Stack } from './support.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SITE_NAMES: Record<string, string> = { 'a2-ecole': 'École des Tilleuls', 'a2-college': 'Collège Jean-Moulin' };

/** Thursday 15 January 2026, local midnight to local midnight (Paris, UTC+1), and the time it is judged. */
const THURSDAY = Date.parse('2026-01-14T23:00:00Z');
const FRIDAY = Date.parse('2026-01-15T23:00:00Z');
const NOW = '2026-01-16T00:00:00Z';

let stack: Stack;
let ctx: (o?: { calendars?: Record<string, SiteCalendar>; rules?: Record<string, SiteRules> }) => WindowContext;

beforeAll(async () => {
  stack = await startStack();
  const contextAt = windowContexts(stack, SITE_NAMES);
  ctx = (o = {}) => contextAt(NOW, o);
});
afterAll(async () => {
  await stack?.close();
});

const write = (lines: string[]) => writeLines(stack, lines);

/** Local wall-clock minutes of the day in Paris in January (UTC+1). */
const localMinutes = (t: number) => ((((t + HOUR) % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR)) / MIN;
const at = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** CO₂ readings of a room sensor every `stepMin` minutes over [from, to): `ppm(local minutes of the day)`. */
function co2Lines(site: string, device: string, ppm: (minutes: number) => number, o: { from?: number; to?: number; stepMin?: number } = {}): string[] {
  const lines: string[] = [];
  const name = device.replace(/ /g, '\\ '); // a space in a tag value is escaped in line protocol
  const tags = `air,tenant=t1,site=${site},building=${site},role=room,dev_eui=${name},device=${name}`;
  for (let t = o.from ?? THURSDAY; t < (o.to ?? FRIDAY); t += (o.stepMin ?? 10) * MIN) lines.push(`${tags} co2_ppm=${ppm(localMinutes(t))} ${t}`);
  return lines;
}

/** A profile by local time ranges ('08:00'), the last one up to midnight; outside school hours the air is outdoor-like. */
const profile =
  (...ranges: [from: string, ppm: number][]) =>
  (m: number) => {
    if (m < at('08:00') || m >= at('18:00')) return 450;
    return ranges.filter(([from]) => at(from) <= m).at(-1)?.[1] ?? 450;
  };

const byDevice = (findings: Finding[], device: string) => findings.find((f) => f.subject.device === device);
/** French number formatting groups thousands with a narrow no-break space: compared as a plain space. */
const plain = (s: string) => s.replace(/[\u202f\u00a0]/g, ' ');

describe('A2 daily confinement index (ICONE)', () => {
  it('fires on a classroom at 1,200–1,900 ppm most of the school day (critical at 5), not on one at the class limits', async () => {
    await write([
      // 2 h at 800 ppm, 4 h at 1,200 ppm, 4 h at 1,900 ppm: f1 = f2 = 24/60.
      ...co2Lines('a2-ecole', 'CM1', profile(['08:00', 800], ['10:00', 1200], ['14:00', 1900])),
      // Over 1,700 ppm all the occupied day: f2 = 1, the top of the scale.
      ...co2Lines('a2-ecole', 'CP', profile(['08:00', 1900])),
      // Exactly 1,000 ppm counts in the lowest class, exactly 1,700 ppm in the middle one: f1 = 1/2, f2 = 0.
      ...co2Lines('a2-ecole', 'CE1', profile(['08:00', 1000], ['13:00', 1700])),
    ]);
    const findings = await confinementIndexRule().evaluate(ctx());

    // (2.5 / log 2) · log(1 + 0.4 + 3 × 0.4) = 8.305 × log 2.6 = 3.446.
    const cm1 = byDevice(findings, 'CM1');
    expect(cm1).toMatchObject({
      firing: true,
      severity: 'warning',
      subject: { tenant: 't1', site: 'a2-ecole', building: 'a2-ecole', devEui: 'CM1', device: 'CM1' },
      measured: { day: '2026-01-15', icone: 3, icone_exact: 3.45, above_1700_pct: 40, between_1000_1700_pct: 40, ten_minute_values: 60, occupied_h: 10, coverage_pct: 100 },
      thresholds: { min_icone: 3, critical_icone: 5, min_coverage_pct: 75 },
      window: { from: new Date(THURSDAY), to: new Date(FRIDAY) },
    });
    expect(plain(cm1!.message.fr)).toBe(
      "Air confiné le 15/01/2026 : CM1 (École des Tilleuls), indice ICONE 3 sur 5 (confinement élevé), CO₂ au-dessus de 1 700 ppm pendant 40 % du temps d'occupation et entre 1 000 et 1 700 ppm pendant 40 % (10 heures mesurées sur 10, 100 %) : aérer entre les cours et faire vérifier la ventilation.",
    );
    expect(cm1!.message.en).toBe(
      'Stuffy air on 15 Jan 2026: CM1 (École des Tilleuls), ICONE index 3 out of 5 (high confinement), CO₂ above 1,700 ppm for 40 % of the occupied time and between 1,000 and 1,700 ppm for 40 % (10 hours measured out of 10, 100 %): air the room between lessons and have the ventilation checked.',
    );
    expect(byDevice(findings, 'CP')).toMatchObject({ firing: true, severity: 'critical', measured: { icone: 5, icone_exact: 5, above_1700_pct: 100, between_1000_1700_pct: 0 } });
    // 8.305 × log 1.5 = 1.46.
    expect(byDevice(findings, 'CE1')).toMatchObject({ firing: false, measured: { icone: 1, icone_exact: 1.46, above_1700_pct: 0, between_1000_1700_pct: 50 } });

    // A site that holds itself to 4 ("très élevé"), and one that turns the rule off.
    const lenient = await confinementIndexRule().evaluate(ctx({ rules: { 'a2-ecole': { A2: { minIcone: 4 } } } }));
    expect(byDevice(lenient, 'CM1')).toMatchObject({ firing: false, thresholds: { min_icone: 4 }, measured: { icone: 3 } });
    expect(byDevice(lenient, 'CP')).toMatchObject({ firing: true, severity: 'critical' });
    const off = await confinementIndexRule().evaluate(ctx({ rules: { 'a2-ecole': { A2: { enabled: false } } } }));
    expect(off.filter((f) => f.subject.site === 'a2-ecole')).toEqual([]);
  });

  it('does not fire on a well-ventilated day', async () => {
    // Below 1,000 ppm at every value, with one short peak at 950 ppm each hour.
    await write(co2Lines('a2-college', 'Salle 12', (m) => (m >= at('08:00') && m < at('18:00') ? (m % 60 === 50 ? 950 : 650) : 420)));
    const findings = await confinementIndexRule().evaluate(ctx());
    expect(byDevice(findings, 'Salle 12')).toMatchObject({
      firing: false,
      measured: { day: '2026-01-15', icone: 0, icone_exact: 0, above_1700_pct: 0, between_1000_1700_pct: 0, ten_minute_values: 60, coverage_pct: 100 },
    });
  });

  it('does not fire (no verdict) on a sensor with too few readings, but judges one that reports every 15 min', async () => {
    await write([
      // Offline from 11:00: 3 of the 10 occupied hours measured.
      ...co2Lines('a2-college', 'Salle 14', profile(['08:00', 1900]), { to: THURSDAY + at('11:00') * MIN }),
      // One reading an hour: no occupied hour holds the 2 values needed.
      ...co2Lines('a2-college', 'Salle 15', profile(['08:00', 1900]), { stepMin: 60 }),
      // Every 15 min: 4 ten-minute values an hour, every hour measured.
      ...co2Lines('a2-college', 'Salle 16', profile(['08:00', 1900]), { stepMin: 15 }),
    ]);
    const findings = await confinementIndexRule().evaluate(ctx());
    expect(byDevice(findings, 'Salle 14')).toBeUndefined();
    expect(byDevice(findings, 'Salle 15')).toBeUndefined();
    expect(byDevice(findings, 'Salle 16')).toMatchObject({ firing: true, severity: 'critical', measured: { icone: 5, ten_minute_values: 40, coverage_pct: 100 } });
  });

  it('does not fire on a day the school was closed: the verdict is on the last day it was open', async () => {
    // Closed on Thursday (a day off in its calendar) while a meeting filled the room; Wednesday was well aired.
    const calendars = { 'a2-ferme': siteCalendarSchema.parse({ closedDates: ['2026-01-15'] }) };
    const wednesday = THURSDAY - 24 * HOUR;
    await write([
      ...co2Lines('a2-ferme', 'Salle polyvalente', profile(['08:00', 700]), { from: wednesday, to: THURSDAY }),
      ...co2Lines('a2-ferme', 'Salle polyvalente', profile(['08:00', 1900])),
    ]);
    const findings = await confinementIndexRule().evaluate(ctx({ calendars }));
    expect(byDevice(findings, 'Salle polyvalente')).toMatchObject({
      firing: false,
      measured: { day: '2026-01-14', icone: 0, ten_minute_values: 60 },
      window: { from: new Date(wednesday), to: new Date(THURSDAY) },
    });
    // Judged as an open day, the same Thursday would have fired.
    expect(byDevice(await confinementIndexRule().evaluate(ctx()), 'Salle polyvalente')).toMatchObject({ firing: true, measured: { day: '2026-01-15', icone: 5 } });
  });

  it('A2 reaches the catalogue, the site settings and the console labels from its definition alone', () => {
    expect(icone([800, 1000, 1200, 1700, 1900])).toMatchObject({ f1: 0.4, f2: 0.2 });
    const entry = ruleCatalogue().find((r) => r.id === 'A2');
    expect(entry).toMatchObject({ kind: 'windowed', category: 'air', defaults: { minIcone: 3, criticalIcone: 5 }, siteParameters: ['enabled', 'minIcone'] });
    expect(entry!.description.fr).toContain('ICONE d’une pièce (rôle room) ≥ 3');
    expect(siteRulesSchema.safeParse({ A2: { minIcone: 4, enabled: true } }).success).toBe(true);
    expect(JSON.stringify(siteRulesSchema.safeParse({ A2: { minIcone: 6 } }).error?.issues)).toContain('expected minIcone of at most 5');
    const page = (lang: 'fr' | 'en') => ({ lang, t: lang === 'fr' ? fr : en }) as unknown as PageContext;
    expect(fieldLabel(page('fr'), 'icone')).toBe('Indice de confinement ICONE (0 à 5)');
    expect(fieldLabel(page('en'), 'above_1700_pct')).toBe('Share of occupied time above 1,700 ppm');
  });
});
