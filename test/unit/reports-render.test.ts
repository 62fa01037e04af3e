/**
 * Governance reports, output side: SVG charts (geometry, escaping), the self-contained HTML in both languages,
 * the CSV columns against docs/reports.md, and the CLI's argument checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../services/cli/report.ts';
import { PARSIMONY_CSV_COLUMNS, parsimonyCsv, YEARLY_CSV_COLUMNS, yearlyCsv } from '../../services/reports/csv.ts';
import { renderParsimonyHtml, renderYearlyHtml } from '../../services/reports/html.ts';
import { buildParsimonyReport, REPORTING_NEEDS } from '../../services/reports/parsimony.ts';
import { reportsConfigSchema } from '../../services/reports/config.ts';
import { barChart, CHART_COLORS, hBarChart, niceTicks } from '../../services/reports/svg.ts';
import { buildYearlyReport, yearBounds } from '../../services/reports/yearly.ts';
import { reportNames } from '../../services/reports/common.ts';
import { roleLabel } from '../../services/registry/names.ts';
import { townRegistry } from '../../services/simulator/town.ts';
import type { Alert } from '../../services/alerts/model.ts';
import { FIXED_IDENTIFIERS, leaks, officialText } from './reports-text.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('SVG charts', () => {
  it('picks round ticks covering the maximum', () => {
    expect(niceTicks(11.2)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(965)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('draws bars proportional to their values, stacked or side by side, and escapes every text', () => {
    // Bars carry a <title>; legend swatches do not.
    const heights = (svg: string, color: string) => [...svg.matchAll(new RegExp(`height="([\\d.]+)" fill="${color}"><title>`, 'g'))].map((m) => Number(m[1]));
    const series = [
      { name: '<script>alert(1)</script>', color: '#111111', values: [10, null, 20] },
      { name: 'b & c', color: '#222222', values: [5, 0, 5] },
    ];
    const grouped = barChart({ name: 'g', title: 'T "quoted"', categories: ['a', 'b', 'c'], series, unit: 'm³', lang: 'fr' });
    const [h10, h20] = heights(grouped, '#111111');
    expect(h20! / h10!).toBeCloseTo(2, 6);
    // Null and zero draw nothing.
    expect(heights(grouped, '#222222')).toHaveLength(2);
    expect(grouped).not.toContain('<script>');
    expect(grouped).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(grouped).toContain('b &amp; c');
    expect(grouped).toContain('aria-label="T &quot;quoted&quot;"');
    const stacked = barChart({ name: 's', title: 'T', categories: ['a', 'b', 'c'], series, stacked: true, unit: 'm³', lang: 'fr' });
    // Stacked: 20 + 5 = 25 on a 0–25 axis fills the plot; 20 is 4/5 of it.
    const [, s20] = heights(stacked, '#111111');
    const [, s5] = heights(stacked, '#222222');
    expect(s20! / s5!).toBeCloseTo(4, 6);
  });

  it('draws the reference line of a horizontal bar chart where its value is', () => {
    const svg = hBarChart({ name: 'h', title: 'T', items: [{ label: 'x', value: 60, color: '#0c8599' }], unit: 's', lang: 'en', reference: { value: 30, label: 'budget', color: '#e03131' } });
    const bar = /<rect x="220" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
    const line = /<line x1="([\d.]+)" x2="[\d.]+" y1="32"/.exec(svg)!;
    // 0–60 axis: the 30 line is half the bar's length from its start.
    expect(Number(line[1]) - 220).toBeCloseTo(Number(bar[1]) / 2, 6);
  });
});

const tz = 'Europe/Paris';
const { from, to } = yearBounds(2026, tz);
const parsimony = buildParsimonyReport({
  tenant: 'saint-veilleur',
  from: new Date('2026-03-02T00:00:00Z'),
  to: new Date('2026-03-03T00:00:00Z'),
  devices: [
    { tenant: 'saint-veilleur', site: 'mairie', devEui: '0000000000000001', device: '=HYPERLINK("x")', buckets: [{ t: Date.parse('2026-03-02T00:00:00Z'), uplinks: 720, airtimeMs: 720 * 61.696, withAirtime: 720, meanSizeBytes: 11, maxSf: 7, meanBandwidthHz: 125_000 }] },
    { tenant: 'saint-veilleur', site: 'mairie', devEui: '0000000000000002', device: '<img src=x onerror=alert(1)>', buckets: [{ t: Date.parse('2026-03-02T00:00:00Z'), uplinks: 96, airtimeMs: 96 * 66.816, withAirtime: 96, meanSizeBytes: 16, maxSf: 7, meanBandwidthHz: 125_000 }] },
  ],
  roles: new Map([
    ['0000000000000001', 'room'],
    ['0000000000000002', 'water-main'],
  ]),
});

const leak: Alert = {
  id: '00000000-0000-4000-8000-000000000009',
  ruleId: 'W7',
  ruleVersion: 1,
  category: 'water',
  title: { fr: '', en: '' },
  severity: 'critical',
  subject: { tenant: 'saint-veilleur', site: 'mairie', device: 'fuite, "cave"', devEui: '0000000000000003' },
  state: 'resolved',
  startedAt: new Date('2026-04-01T10:00:00Z'),
  lastFiringAt: new Date('2026-04-01T12:00:00Z'),
  endedAt: new Date('2026-04-01T12:00:00Z'),
  window: { from: new Date('2026-04-01T10:00:00Z'), to: new Date('2026-04-01T10:00:00Z') },
  thresholds: {},
  measured: { water_leak: 'wet' },
  message: { fr: 'eau', en: 'water' },
  source: { text: { fr: '', en: '' }, reference: '' },
  action: { fr: '', en: '' },
};

function yearly(withEnergy: boolean, named = false) {
  return buildYearlyReport({
    ...(named ? { names: reportNames(townRegistry(), 'saint-veilleur', ['mairie', 'ecole']) } : {}),
    tenant: 'saint-veilleur',
    year: 2026,
    timeZone: tz,
    now: to,
    waterMeters: [{ site: 'mairie', building: 'mairie', zone: '', devEui: '0000000000000002', device: '<img src=x onerror=alert(1)>', role: 'water-main', medium: 'water', points: [{ t: from.getTime() + 1000, wh: 0 }, { t: from.getTime() + 40 * 86_400_000, wh: 5000 }] }],
    energyMeters: withEnergy
      ? [{ site: 'ecole', building: 'ecole', zone: '', devEui: '0000000000000004', device: 'linky', role: 'building-main', medium: 'electricity', points: [{ t: from.getTime() + 1000, wh: 0 }, { t: from.getTime() + 100 * 86_400_000, wh: 9_000_000 }] }]
      : [],
    outdoor: [],
    alerts: [leak],
    datacenterMeters: new Map(),
    parsimony,
    storage: [{ measurement: 'uplink', fields: { f_cnt: 816 } }],
    config: reportsConfigSchema.parse({ tertiaire: [{ site: 'ecole', referenceYear: 2019, referenceKwh: 20_000 }] }),
  });
}

describe('HTML', () => {
  it('is one self-contained page, in French by default, with its charts and escaped names', () => {
    const html = renderYearlyHtml(yearly(true));
    expect(html.startsWith('<!doctype html>\n<html lang="fr">')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|<[^>]+\s(?:src|href)\s*=/i);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const chart of ['water', 'energy', 'tertiaire-ecole-ecole', 'airtime']) expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toContain(CHART_COLORS.water[0]);
    expect(html).toContain('Revue annuelle de la stratégie numérique responsable 2026');
    expect(html).toContain('<em>non estimé</em>');
    // 5,000 L = 5 m³, French number format.
    expect(html).toMatch(/>5<\/td>/);
    expect(html).toContain('émet trop souvent, plus de 30 s/jour d’antenne');
  });

  it('names the commune and its sites, says what each month holds, and keeps identifiers to the technical appendix', () => {
    const html = renderYearlyHtml(yearly(true, true));
    expect(html).toContain('<title>Revue annuelle de la stratégie numérique responsable 2026 – Commune de Saint-Veilleur</title>');
    const texts = officialText(html);
    // 'ecole' has no name in the town's configuration: it stays as it is, and the appendix says how to name it.
    expect(leaks(texts, [...FIXED_IDENTIFIERS, 'saint-veilleur', 'mairie', '<img src=x onerror=alert(1)>', '=HYPERLINK("x")', '0000000000000001', 'W7'])).toEqual([]);
    expect(texts).toContain('Mairie');
    // The check itself finds an identifier: without names, the commune is shown by its id.
    expect(leaks(officialText(renderYearlyHtml(yearly(true))), ['saint-veilleur', 'air'])).toContain('saint-veilleur in «saint-veilleur»');
    expect(texts).toContain(`Compteur d'eau du bâtiment – Mairie`);
    expect(html).toContain('Donner un nom au site <code>ecole</code>');
    // Partial data is said in the banner and in each tile; a month without any reading is drawn as missing.
    expect(texts.some((x) => x.startsWith('Mesures partielles : les capteurs n’ont mesuré que du 1er janvier au 11 avril 2026, soit 27 % de l’année 2026.'))).toBe(true);
    expect(html).toMatch(/data-headline="water"><div class="v">5 m³<\/div><div class="l">Eau consommée<\/div><div class="s">Mesuré du 1er janvier au 10 février 2026 · 11 % de l’année<\/div><div class="w">Chiffre partiel : ce n’est pas celui de l’année entière.<\/div><div class="s">Pas d’estimation sur l’année : moins de 50 % de l’année mesurée.<\/div><\/div>/);
    // The path of the décret tertiaire has no point for a part of a year, and says why.
    const path = /<svg[^>]*data-chart="tertiaire-ecole-ecole"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(path).not.toContain(CHART_COLORS.measured);
    expect(texts).toContain('La consommation mesurée n’est pas placée sur la trajectoire : elle ne couvre qu’une partie de l’année et ne se compare pas à un objectif annuel.');
    const water = /<svg[^>]*data-chart="water"[\s\S]*?<\/svg>/.exec(html)![0];
    // Data in January (a reading, no consumption yet: 0) and February; none from March on.
    expect([...water.matchAll(/data-missing="([^"]+)"/g)].map((m) => m[1])).toEqual(['mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.']);
    expect(water).toContain('>sans mesure</text>');
    // The glossary explains the acronyms the text keeps.
    for (const term of ['PUE', 'DJU', 'LoRaWAN', 'SF7 à SF12', 'UKWIR', 'HCSP', 'ASHRAE']) expect(html).toContain(`<dt>${term}</dt>`);
  });

  it('renders a fragment without the page shell, its style scoped to its root', () => {
    const html = renderYearlyHtml(yearly(true, true), 'fr', { fragment: true });
    expect(html.startsWith('<article class="vr" lang="fr"><style>')).toBe(true);
    expect(html).not.toMatch(/<html|<head|<body|<!doctype/i);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    // Every rule starts with the root class: the host page's own elements are left alone.
    const selectors = style.replace(/@media print\{/, '').split('}').map((r) => r.split('{')[0]!.trim()).filter(Boolean);
    expect(selectors.length).toBeGreaterThan(20);
    for (const sel of selectors) for (const part of sel.split(',')) expect(part.trim(), sel).toMatch(/^\.vr\b/);
    expect(renderParsimonyHtml(parsimony, 'fr', { fragment: true }).startsWith('<article class="vr"')).toBe(true);
  });

  it('speaks English on request and leaves out the charts it has no data for', () => {
    const html = renderYearlyHtml(yearly(false), 'en');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Responsible-digital strategy: annual review 2026');
    expect(html).toContain('<em>not estimated</em>');
    expect(html).not.toContain('data-chart="energy"');
    expect(html).not.toContain('data-chart="tertiaire');
    expect(html).toContain('data-chart="water"');
  });

  it('renders the parsimony report with its needs table', () => {
    const html = renderParsimonyHtml(parsimony, 'fr');
    expect(html).toContain('data-chart="airtime"');
    for (const role of Object.keys(REPORTING_NEEDS)) expect(html).toContain(`<td>${roleLabel(role, 'fr').replace(/'/g, '&#39;')}</td>`);
    expect(html).toContain('Modèle de pile');
  });
});

describe('CSV', () => {
  it('writes one row per device, with spreadsheet formulas neutralised', () => {
    const csv = parsimonyCsv(parsimony);
    const lines = csv.split('\r\n');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(lines[0]).toBe(PARSIMONY_CSV_COLUMNS.join(','));
    const row = lines.find((l) => l.includes(',0000000000000001,'))!;
    expect(row).toMatch(/^saint-veilleur,mairie,0000000000000001,"'=HYPERLINK\(""x""\)",room,2026-03-02T00:00:00.000Z,2026-03-03T00:00:00.000Z,1,720,720,720,10,15,144,5,44.42,/);
    expect(row.endsWith(',over-reporting;airtime-over-budget')).toBe(true);
  });

  it('writes the yearly report as a long table; a loss not estimated is an empty value with its reason', () => {
    const rows = yearlyCsv(yearly(true), 'en').trimEnd().split('\r\n');
    expect(rows[0]).toBe(YEARLY_CSV_COLUMNS.join(','));
    // The note holds a comma: quoted.
    expect(rows).toContain(`saint-veilleur,2026,leak,mairie,,"fuite, ""cave""",0000000000000003,,,leak_loss_m3,2026-04-01T10:00:00.000Z/2026-04-01T12:00:00.000Z,,m3,"W7 ${leak.id}; not estimated (leak sensor: water present, no flow)"`);
    expect(rows).toContain(`saint-veilleur,2026,leak,mairie,,"fuite, ""cave""",0000000000000003,,,leak_duration_h,2026-04-01T10:00:00.000Z/2026-04-01T12:00:00.000Z,2,h,W7 ${leak.id}`);
    // 5,000 L over the year, all in February (a reading in January without consumption yet: 0, not empty).
    expect(rows).toContain('saint-veilleur,2026,water,mairie,mairie,<img src=x onerror=alert(1)>,0000000000000002,water-main,water,volume_m3,2026,5,m3,');
    expect(rows).toContain('saint-veilleur,2026,water,mairie,mairie,<img src=x onerror=alert(1)>,0000000000000002,water-main,water,volume_m3,2026-01,0,m3,');
    expect(rows.filter((l) => l.includes(',volume_m3,2026-'))).toHaveLength(2);
    expect(rows).toContain('saint-veilleur,2026,tertiaire,ecole,ecole,,,,,target_kwh,2030,12000,kWh,reduction 40 %');
    expect(rows).toContain('saint-veilleur,2026,tertiaire,ecole,ecole,,,,,on_track,2026,,,');
    expect(rows).toContain('saint-veilleur,2026,storage,,,,,,uplink,bytes_estimated,2026,2448,B,');
  });

  it('documents every column, in order, in docs/reports.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'reports.md'), 'utf8');
    const columnsUnder = (heading: string) => {
      const section = doc.slice(doc.indexOf(heading));
      const table = section.slice(section.indexOf('| column | content |'));
      const rows: string[] = [];
      for (const line of table.split('\n').slice(2)) {
        const m = /^\| `([a-z_0-9]+)` \|/.exec(line);
        if (!m) break;
        rows.push(m[1]!);
      }
      return rows;
    };
    expect(columnsUnder('### Parsimony CSV columns')).toEqual([...PARSIMONY_CSV_COLUMNS]);
    expect(columnsUnder('### Yearly CSV columns')).toEqual([...YEARLY_CSV_COLUMNS]);
    for (const [role, need] of Object.entries(REPORTING_NEEDS)) expect(doc).toContain(`| \`${role}\` | ${need.finestMin}–${need.coarsestMin} min`);
  });
});

describe('veilleur report parsimony|yearly', () => {
  it('rejects bad arguments with exit code 2 and a message naming the option, before reading anything', async () => {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    const cases: [string[], RegExp][] = [
      [['energy'], /unknown report 'energy' \(expected: datacenter, parsimony, yearly\)/],
      [['yearly', '--tenant', 't'], /--year: expected a year/],
      [['yearly', '--tenant', 't', '--year', '1999'], /--year: expected a year/],
      [['yearly', '--tenant', 't', '--year', '2026', '--format', 'pdf'], /--format: expected html, csv, json/],
      [['yearly', '--tenant', 't', '--year', '2026', '--lang', 'de'], /--lang: expected fr or en/],
      [['yearly', '--tenant', 't', '--year', '2026', '--from', '2026-01-01T00:00:00Z'], /leave out --from and --to/],
      [['parsimony', '--tenant', 't', '--from', '2026-03-01'], /--from: expected an RFC 3339 time/],
      [['parsimony', '--tenant', 't', '--from', '2026-03-02T00:00:00Z', '--to', '2026-03-01T00:00:00Z'], /--to: must be after --from/],
      [['parsimony', '--tenant', 't', '--from', '2025-01-01T00:00:00Z', '--to', '2026-03-01T00:00:00Z'], /at most 366 days/],
      [['parsimony', '--tenant', 't', '--year', '2026'], /--year: only for the yearly report/],
      [['parsimony', '--bogus'], /Unknown option '--bogus'/],
    ];
    try {
      for (const [args, message] of cases) {
        err.length = 0;
        expect(await reportCommand(args), args.join(' ')).toBe(2);
        expect(err.join('')).toMatch(message);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
