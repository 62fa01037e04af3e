/**
 * The dashboards are generated, never edited by hand: generation is deterministic, the JSON provisioned to Grafana
 * (infra/grafana/dashboards) is what the generator produces, and every panel queries InfluxDB with the portable
 * InfluxQL subset.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, OUTPUT_DIR, staleFiles } from '../../dashboards/build.ts';
import { GRID_COLUMNS, layOut } from '../../dashboards/common.ts';
import { DEFAULT_OPENING_HOURS, openHoursRegex } from '../../dashboards/building-energy.ts';
import { LANGS } from '../../dashboards/i18n.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { div, mul, render, rollupConsumption, type InfluxQLDataquery } from '../../dashboards/influxql.ts';
import { MEASUREMENTS } from '../../decoders/model/quantities.ts';
import { siteCalendarSchema } from '../../services/time/calendar.ts';
import { RESOLUTIONS, rollupFields, rollupFrom } from '../../services/rollups/names.ts';
import { panelQueries, panelRange, panelsOf } from './support.ts';

describe('dashboard generation', () => {
  it('is deterministic', () => {
    const a = generate();
    const b = generate();
    expect([...a.keys()].sort()).toEqual(DASHBOARDS.flatMap((d) => LANGS.map((l) => `${d.name}.${l}.json`)).sort());
    for (const [name, content] of a) {
      expect(content, name).toBe(b.get(name));
      expect(content.endsWith('}\n')).toBe(true);
    }
  });

  it('matches the committed JSON in infra/grafana/dashboards (run `node --import tsx dashboards/build.ts`)', () => {
    expect(staleFiles()).toEqual([]);
    const onDisk = readdirSync(OUTPUT_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(onDisk).toEqual([...generate().keys()].sort());
  });

  it('gives every panel at least one InfluxQL target with a query, on the dashboard datasource', () => {
    for (const d of DASHBOARDS) {
      for (const lang of LANGS) {
        const dash = d.build(lang);
        const panels = panelsOf(dash);
        expect(panels.length, dash.title).toBeGreaterThan(0);
        for (const p of panels) {
          const targets = (p.targets ?? []) as InfluxQLDataquery[];
          expect(targets.length, `${dash.title} / ${p.title}`).toBeGreaterThan(0);
          expect(targets.some((t) => t.query.trim().length > 0), `${dash.title} / ${p.title}`).toBe(true);
          for (const t of targets) {
            expect(t).toMatchObject({ rawQuery: true, datasource: { type: 'influxdb', uid: '${datasource}' } });
            expect(['time_series', 'table']).toContain(t.resultFormat);
          }
        }
      }
    }
  });

  it('uses only InfluxQL that InfluxDB 1.x, 2.x and 3.x all accept, bounded by the time filter', () => {
    for (const d of DASHBOARDS) {
      for (const q of panelQueries(d.build('fr'))) {
        expect(q.query, `${q.dashboard} / ${q.panel}`).toMatch(/^SELECT /);
        expect(q.query).toContain('$timeFilter');
        expect(q.query).not.toMatch(/\b(SLIMIT|SOFFSET|CARDINALITY|INTO|Flux|from\(bucket)\b/i);
        for (const fn of q.query.matchAll(/\b([a-z_]+)\(/g)) {
          expect(['mean', 'min', 'max', 'last', 'sum', 'count', 'non_negative_difference', 'non_negative_derivative', 'time', 'fill', 'tz']).toContain(fn[1]);
        }
        // Daily buckets are local days: every (sub)query grouped by day carries tz().
        const days = q.query.match(/time\(1d\)[^()]*(\([^()]*\)[^()]*)*/g) ?? [];
        for (const d of days) expect(d, q.query).toMatch(/tz\('Europe\/Paris'\)/);
        // No duration InfluxDB 1.x lacks (`1y`, `1mo`): a shift by a year is Grafana's time shift, never InfluxQL's.
        expect(q.query).not.toMatch(/\d+(y|mo)\b/);
      }
    }
  });

  it('filters every read of a measurement by the tenant variable: a commune sees only its own data', () => {
    let reads = 0;
    for (const d of DASHBOARDS) {
      for (const q of panelQueries(d.build('fr'))) {
        // Each FROM of a measurement or rollup (not of a subquery), with its WHERE up to GROUP BY or the subquery's end.
        for (const m of q.query.matchAll(/FROM ("[^"]+"(?:\."[^"]+")?) WHERE (.*?)(?= GROUP BY|\)|$)/g)) {
          expect(m[2], `${q.dashboard} / ${q.panel} / ${q.refId}: ${m[1]} in ${q.query}`).toContain('"tenant" =~ /^$tenant$/');
          reads++;
        }
      }
    }
    expect(reads).toBeGreaterThanOrEqual(50);
  });

  it('gives panels only ranges and shifts the test harness (and Grafana) understand', () => {
    const now = new Date('2026-03-15T12:00:00Z');
    const shifted: string[] = [];
    for (const d of DASHBOARDS) {
      for (const q of panelQueries(d.build('en'))) {
        const r = panelRange(q, now);
        expect(r.from.getTime(), `${q.panel}`).toBeLessThan(r.to.getTime());
        if (q.timeShift) shifted.push(`${q.panel}: ${r.from.toISOString()} → ${r.to.toISOString()}`);
      }
    }
    // "Same month last year": 1 March 2025 00:00 Paris to the same instant of March 2025.
    expect([...new Set(shifted)]).toEqual(['Same month last year (same days): 2025-02-28T23:00:00.000Z → 2025-03-15T12:00:00.000Z']);
  });

  it('gives French and English the same panels and queries, with unique uids and titles', () => {
    const uids = new Set<string>();
    const titles = new Set<string>();
    for (const d of DASHBOARDS) {
      const [fr, en] = [d.build('fr'), d.build('en')];
      expect(panelQueries(en).map((q) => q.query)).toEqual(panelQueries(fr).map((q) => q.query));
      expect(panelsOf(en).map((p) => p.title)).not.toEqual(panelsOf(fr).map((p) => p.title));
      for (const dash of [fr, en]) {
        expect(uids.has(dash.uid!)).toBe(false);
        expect(titles.has(dash.title!)).toBe(false);
        uids.add(dash.uid!);
        titles.add(dash.title!);
        expect(dash.templating.list?.map((v) => v.name).slice(0, 4)).toEqual(['datasource', 'tenant', 'site', 'device']);
      }
    }
  });

  it('names the PUE measurement category in the PUE titles, from a variable with the ISO/IEC 30134-2 categories', () => {
    for (const lang of LANGS) {
      const dash = DASHBOARDS.find((d) => d.name === 'datacenter')!.build(lang);
      const v = dash.templating.list?.find((x) => x.name === 'pue_category');
      expect(v?.type).toBe('custom');
      expect(v?.options?.map((o) => o.value)).toEqual(['unknown', '1', '2', '3']);
      expect(v?.current?.value).toBe('unknown');
      const titles = panelsOf(dash).map((p) => p.title ?? '');
      expect(titles.filter((t) => t.includes('${pue_category:text}'))).toHaveLength(2);
    }
    const en = DASHBOARDS.find((d) => d.name === 'datacenter')!.build('en').templating.list?.find((x) => x.name === 'pue_category');
    expect(en?.options?.map((o) => o.text)).toEqual(['category not configured', 'category 1 (UPS output)', 'category 2 (PDU output)', 'category 3 (IT equipment input)']);
  });
});

describe('layout', () => {
  it('keeps every panel of every dashboard inside the 24 columns, without overlaps, in both languages', () => {
    let checked = 0;
    for (const d of DASHBOARDS) {
      for (const lang of LANGS) {
        const dash = d.build(lang);
        const boxes = (dash.panels ?? []).map((p) => ({ title: (p as { title?: string }).title ?? '', ...p.gridPos! }));
        for (const b of boxes) {
          const where = `${dash.title} / ${b.title}: ${JSON.stringify(b)}`;
          expect(b.x, where).toBeGreaterThanOrEqual(0);
          expect(b.y, where).toBeGreaterThanOrEqual(0);
          expect(b.w, where).toBeGreaterThan(0);
          expect(b.h, where).toBeGreaterThan(0);
          expect(b.x + b.w, where).toBeLessThanOrEqual(GRID_COLUMNS);
        }
        for (const [i, a] of boxes.entries()) {
          for (const b of boxes.slice(i + 1)) {
            const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
            expect(overlap, `${dash.title}: '${a.title}' ${JSON.stringify(a)} overlaps '${b.title}' ${JSON.stringify(b)}`).toBe(false);
          }
        }
        // No half-empty row: a panel that fits beside another is placed there, not below it.
        const rows = new Map<number, number>();
        for (const b of boxes) rows.set(b.y, (rows.get(b.y) ?? 0) + b.w);
        for (const [y, width] of rows) expect(width, `${dash.title}: row at y=${y}`).toBe(GRID_COLUMNS);
        checked += boxes.length;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(68);
  });

  it('starts a new row when a panel does not fit in what is left of the current one', () => {
    const panels = [{ gridPos: { x: 0, y: 0, w: 12, h: 8 } }, { gridPos: { x: 0, y: 0, w: 24, h: 6 } }, { gridPos: { x: 0, y: 0, w: 14, h: 8 } }, { gridPos: { x: 0, y: 0, w: 10, h: 5 } }, { gridPos: { x: 0, y: 0, w: 12, h: 4 } }];
    layOut(panels);
    expect(panels.map((p) => p.gridPos)).toEqual([
      { x: 0, y: 0, w: 12, h: 8 },
      { x: 0, y: 8, w: 24, h: 6 },
      { x: 0, y: 14, w: 14, h: 8 },
      { x: 14, y: 14, w: 10, h: 5 },
      { x: 0, y: 22, w: 12, h: 4 },
    ]);
  });
});

describe('long ranges on the rollups', () => {
  const ROLLUPS = RESOLUTIONS.flatMap((resolution) => MEASUREMENTS.map((m) => ({ from: rollupFrom(m, resolution), m, resolution })));
  const all = DASHBOARDS.flatMap((d) => panelQueries(d.build('en')));
  const onRollups = (query: string) => ROLLUPS.filter((r) => query.includes(`FROM ${r.from}`));

  it('reads rollups by their names in services/rollups/names.ts, with fields they have, in whole periods', () => {
    const used = all.filter((q) => /FROM "rollup_/.test(q.query));
    expect(used.length).toBeGreaterThanOrEqual(15);
    for (const q of used) {
      const [r, ...more] = onRollups(q.query);
      expect(r, q.query).toBeDefined();
      expect(more, q.query).toEqual([]);
      // Every FROM names one rollup measurement, or raw readings: never both in one query.
      expect(q.query.match(/FROM "/g)?.length, q.query).toBe(1);
      const fields = rollupFields(r!.m).flatMap((f) => f.fields);
      for (const f of q.query.matchAll(/\b(?:sum|min|max|mean|last)\("([^"]+)"\)/g)) expect(fields, q.query).toContain(f[1]);
      // Buckets no finer than the periods, and never Grafana's automatic interval (minutes on short ranges).
      for (const g of q.query.matchAll(/time\(([^)]+)\)/g)) expect(r!.resolution === '1d' ? ['1d', '1w'] : ['1h', '1d', '1w'], q.query).toContain(g[1]);
    }
  });

  it('gives every panel of a year, or shifted a year back, the rollups (raw readings are kept 90 days)', () => {
    const long = all.filter((q) => q.timeFrom === '1y' || q.timeShift === '1y');
    expect(new Set(long.map((q) => q.panel)).size).toBeGreaterThanOrEqual(5);
    for (const q of long) expect(onRollups(q.query), `${q.panel} / ${q.refId}`).toHaveLength(1);
  });

  it('keeps raw readings for whatever rollups cannot give: today, sub-daily detail, exact range totals', () => {
    for (const panel of ['Flow', 'Minimum night flow (approximate)', 'Volume over the period', 'Base load', 'Share of energy outside opening hours', 'Indoor temperature', 'PUE over the period', 'This month so far']) {
      const qs = all.filter((q) => q.panel === panel);
      expect(qs.length, panel).toBeGreaterThan(0);
      for (const q of qs) expect(onRollups(q.query), `${panel} / ${q.refId}`).toEqual([]);
    }
  });

  it('renders rollup consumption as the sum of whole periods, and refuses buckets finer than the periods', () => {
    expect(render(rollupConsumption({ quantity: 'metering.water.total', resolution: '1d', interval: '1d', groupBy: ['device'], as: 'l' }))).toBe(
      `SELECT sum("volume_index_l_diff") AS "l" FROM ${rollupFrom('water', '1d')} WHERE $timeFilter AND "channel" = '' GROUP BY time(1d), "device" fill(null) tz('Europe/Paris')`,
    );
    expect(render(rollupConsumption({ quantity: 'metering.electricity.activeEnergy', resolution: '1h', groupBy: [], as: 'wh' }))).toBe(
      `SELECT sum("active_energy_index_wh_diff") AS "wh" FROM ${rollupFrom('electricity', '1h')} WHERE $timeFilter AND "channel" = ''`,
    );
    expect(() => rollupConsumption({ quantity: 'metering.water.total', resolution: '1d', interval: '1h', groupBy: [] })).toThrow(/finer/);
    expect(() => rollupConsumption({ quantity: 'water.flow', resolution: '1d', groupBy: [] })).toThrow(/no 'diff' rollup/);
  });
});

describe('out-of-hours share', () => {
  it('treats the default calendar\'s weekday hours 08–17 as open, nights and weekends as closed', () => {
    const open = new RegExp(openHoursRegex(DEFAULT_OPENING_HOURS));
    for (const h of ['1 08', '1 12', '3 17', '5 08', '5 17']) expect(h).toMatch(open);
    for (const h of ['1 07', '1 18', '2 23', '5 18', '6 10', '7 12', '1 8', '11 08']) expect(h).not.toMatch(open);
  });

  it('rounds half-hour openings to the nearer hour and skips closed days', () => {
    const cal = siteCalendarSchema.parse({ openingHours: { mon: ['08:00-12:00', '13:30-17:00'], wed: ['08:30-11:29'], sat: ['09:00-12:00'] } });
    const open = new RegExp(openHoursRegex(cal.openingHours));
    for (const h of ['1 08', '1 11', '1 13', '1 16', '3 08', '3 10', '6 09', '6 11']) expect(h).toMatch(open);
    for (const h of ['1 12', '1 17', '2 10', '3 11', '4 10', '6 12', '7 10']) expect(h).not.toMatch(open);
    expect(openHoursRegex(siteCalendarSchema.parse({ openingHours: {} }).openingHours)).toBe('^$');
  });
});

describe('InfluxQL builder', () => {
  it('writes arithmetic on aggregates with plain decimals, and refuses what InfluxQL would reject', () => {
    expect(render({ select: [{ expr: div(mul({ fn: 'sum', field: 'wh' }, 0.0519), 1000), as: 'kg' }], from: 'm' })).toBe(
      'SELECT (sum("wh") * 0.0519) / 1000 AS "kg" FROM "m" WHERE $timeFilter',
    );
    expect(() => render({ select: [{ expr: mul({ fn: 'sum', field: 'wh' }, 0.0000001), as: 'x' }], from: 'm' })).toThrow(/plain decimal/);
    expect(() => render({ select: [{ field: 'state' }, { fn: 'last', field: 'x' }], from: 'm' })).toThrow(/mix raw fields and aggregates/);
    expect(render({ select: [{ fn: 'sum', field: 'd' }], from: 'm', where: [{ field: 'd', greaterThan: 0 }] })).toBe('SELECT sum("d") FROM "m" WHERE $timeFilter AND "d" > 0');
  });
});
