import { describe, expect, it } from 'vitest';
import { formatter } from '../../services/console/format.ts';
import { MESSAGES } from '../../services/console/i18n/index.ts';
import type { PageContext } from '../../services/console/context.ts';
import { ReportCache } from '../../services/console/cache.ts';
import { attachment, datacenterChoices, datacenterPeriod, datesPeriod, headlineValue, PeriodError, REPORT_DOCUMENT_CSP, yearsOffered } from '../../services/console/pages/reports.ts';

const PARIS = 'Europe/Paris';
const now = new Date('2026-12-06T06:00:00Z');

describe('Rapports: periods', () => {
  it('reads chosen dates as whole local days, the last one included, capped at now', () => {
    expect(datesPeriod('2026-03-01', '2026-03-31', PARIS, 366, now)).toEqual({ from: new Date('2026-02-28T23:00:00Z'), to: new Date('2026-03-31T22:00:00Z'), ongoing: false });
    expect(datesPeriod('2026-12-01', '2026-12-31', PARIS, 366, now)).toEqual({ from: new Date('2026-11-30T23:00:00Z'), to: now, ongoing: true });
  });

  it('refuses missing, reversed, too long and future periods with the reason', () => {
    const key = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof PeriodError ? e.key : String(e);
      }
      return 'accepted';
    };
    expect(key(() => datesPeriod(undefined, '2026-03-01', PARIS, 366, now))).toBe('dates');
    expect(key(() => datesPeriod('2026-03-02', '2026-03-01', PARIS, 366, now))).toBe('order');
    expect(key(() => datesPeriod('2024-01-01', '2026-01-01', PARIS, 366, now))).toBe('tooLong');
    expect(key(() => datesPeriod('2026-12-07', '2026-12-08', PARIS, 366, now))).toBe('future');
    expect(key(() => datacenterPeriod('2027-01', undefined, undefined, PARIS, now))).toBe('future');
    expect(key(() => datacenterPeriod('1999', undefined, undefined, PARIS, now))).toBe('year');
  });

  it('names calendar months, quarters and years by their form, the month under way by default', () => {
    expect(datacenterPeriod(undefined, undefined, undefined, PARIS, now)).toEqual({ from: new Date('2026-11-30T23:00:00Z'), to: now, ongoing: true });
    expect(datacenterPeriod('2026-Q3', undefined, undefined, PARIS, now)).toEqual({ from: new Date('2026-06-30T22:00:00Z'), to: new Date('2026-09-30T22:00:00Z'), ongoing: false });
    expect(datacenterPeriod('2025', undefined, undefined, PARIS, now)).toEqual({ from: new Date('2024-12-31T23:00:00Z'), to: new Date('2025-12-31T23:00:00Z'), ongoing: false });
    expect(datacenterPeriod('dates', '2026-10-01', '2026-10-31', PARIS, now).to).toEqual(new Date('2026-10-31T23:00:00Z'));
  });

  it('offers the last 12 months, 4 quarters and 3 years, and 5 years of reviews, across a new year', () => {
    const c = datacenterChoices(PARIS, new Date('2027-01-15T12:00:00Z'));
    expect(c.months.slice(0, 3)).toEqual(['2027-01', '2026-12', '2026-11']);
    expect(c.months).toHaveLength(12);
    expect(c.quarters).toEqual(['2027-Q1', '2026-Q4', '2026-Q3', '2026-Q2']);
    expect(c.years).toEqual(['2027', '2026', '2025']);
    // 23:30 UTC on 31 December is already the new year in Paris.
    expect(yearsOffered(PARIS, new Date('2026-12-31T23:30:00Z'))).toEqual([2027, 2026, 2025, 2024, 2023]);
  });
});

describe('Rapports: documents and downloads', () => {
  it('lets a report document run nothing and fetch nothing, and be framed only by the console', () => {
    expect(REPORT_DOCUMENT_CSP).toContain("default-src 'none'");
    expect(REPORT_DOCUMENT_CSP).toContain("style-src 'unsafe-inline'");
    expect(REPORT_DOCUMENT_CSP).toContain("frame-ancestors 'self'");
    expect(REPORT_DOCUMENT_CSP).not.toMatch(/script-src/);
  });

  it('names downloads with safe characters only', () => {
    expect(attachment('revue-reen-2026-saint-veilleur.csv')).toBe('attachment; filename="revue-reen-2026-saint-veilleur.csv"');
    expect(attachment('a"b;c/é.html')).toBe('attachment; filename="a_b_c__.html"');
  });

  it('formats headline figures with their unit, bytes in kilo/mega, PUE to the hundredth', () => {
    const ctx = { lang: 'fr', t: MESSAGES.fr, fmt: formatter('fr') } as PageContext;
    expect(headlineValue(ctx, { key: 'stored', unit: 'B' }, 433_400)).toBe('433,4\u202fko');
    expect(headlineValue(ctx, { key: 'pue', unit: '' }, 1.756)).toBe('1,76');
    expect(headlineValue(ctx, { key: 'leakLoss', unit: 'm³' }, 0.437)).toBe('0,44\u202fm³');
    expect(headlineValue(ctx, { key: 'energy', unit: 'kWh' }, 12_345.6)).toBe('12\u202f346\u202fkWh');
    expect(headlineValue(ctx, { key: 'water', unit: 'm³' }, null)).toBe('pas de mesure');
  });
});

describe('Rapports: cache', () => {
  it('computes a report once while it is fresh, again after, and forgets a failure', async () => {
    const cache = new ReportCache(1000, 2);
    let calls = 0;
    const compute = () => Promise.resolve(++calls);
    expect(await cache.get('a', compute, 0)).toBe(1);
    expect(await cache.get('a', compute, 999)).toBe(1);
    expect(await cache.get('a', compute, 1000)).toBe(2);
    await expect(cache.get('b', () => Promise.reject(new Error('influx down')), 1000)).rejects.toThrow('influx down');
    await Promise.resolve();
    expect(await cache.get('b', compute, 1001)).toBe(3);
  });

  it('keeps at most its size, dropping the oldest', async () => {
    const cache = new ReportCache(60_000, 2);
    let calls = 0;
    const compute = () => Promise.resolve(++calls);
    await cache.get('a', compute, 0);
    await cache.get('b', compute, 0);
    await cache.get('c', compute, 0);
    expect(await cache.get('b', compute, 1)).toBe(2);
    expect(await cache.get('a', compute, 1)).toBe(4);
  });
});
