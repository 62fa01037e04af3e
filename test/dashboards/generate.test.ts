/**
 * The dashboards are generated, never edited by hand: generation is deterministic, the JSON provisioned to Grafana
 * (infra/grafana/dashboards) is what the generator produces, and every panel queries InfluxDB with the portable
 * InfluxQL subset.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, OUTPUT_DIR, staleFiles } from '../../dashboards/build.ts';
import { LANGS } from '../../dashboards/i18n.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';
import type { InfluxQLDataquery } from '../../dashboards/influxql.ts';
import { panelQueries, panelsOf } from './support.ts';

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
          expect(['mean', 'min', 'max', 'last', 'sum', 'count', 'non_negative_difference', 'time', 'fill', 'tz']).toContain(fn[1]);
        }
        // Daily buckets are local days.
        if (/time\(1d\)/.test(q.query)) expect(q.query).toMatch(/tz\('Europe\/Paris'\)$/);
      }
    }
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
        expect(dash.templating.list?.map((v) => v.name)).toEqual(['datasource', 'tenant', 'site', 'device']);
      }
    }
  });
});
