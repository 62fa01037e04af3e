/**
 * The Grafana transformations of the dashboards on frames built for the purpose: what the simulated town cannot
 * show (a district with its own customer meters next to another commune's reservoir, a month metered on one side
 * only), and the two Grafana behaviours the model must keep to catch NaN and 0 where there is no data.
 */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../dashboards/index.ts';
import { applyTransformations, type Frame, type Value } from './grafana.ts';

const DAY = 86_400_000;
const JAN_1 = Date.parse('2026-01-01T00:00:00+01:00');
const FEB_1 = Date.parse('2026-02-01T00:00:00+01:00');

function transformationsOf(dashboard: string, title: string): DataTransformerConfig[] {
  const panel = (DASHBOARDS.find((d) => d.name === dashboard)!.build('en').panels ?? []).find((p) => (p as { title?: string }).title?.startsWith(title)) as { transformations?: DataTransformerConfig[] } | undefined;
  expect(panel, title).toBeDefined();
  return panel!.transformations ?? [];
}

const frame = (refId: string, names: string[], rows: Value[][]): Frame => ({ refId, fields: names.map((name, i) => ({ name, values: rows.map((r) => r[i]!) })) });
const column = (f: Frame, name: string) => f.fields.find((x) => x.name === name)?.values;

describe('district balance per site', () => {
  it('subtracts a site’s own meters from its inflow, never another site’s or commune’s', () => {
    const names = ['Time', 'site', 'tenant'];
    const inflow = frame('A', [...names, 'inflow_l'], [
      [JAN_1, 'reservoir-nord', 'agglo-sud', 10_000],
      [JAN_1, 'secteur-est', 'ville-b', 5_000],
      [JAN_1 + DAY, 'secteur-est', 'ville-b', 5_200],
    ]);
    const metered = frame('B', [...names, 'metered_l'], [
      [JAN_1, 'mairie', 'saint-veilleur', 300],
      [JAN_1, 'secteur-est', 'ville-b', 4_600],
      [JAN_1 + DAY, 'secteur-est', 'ville-b', 4_700],
    ]);
    const [out, ...more] = applyTransformations([inflow, metered], transformationsOf('water', 'District balance'));
    expect(more).toEqual([]);
    expect(column(out!, 'Site')).toEqual(['secteur-est', 'secteur-est']);
    expect(column(out!, 'Organisation')).toEqual(['ville-b', 'ville-b']);
    // Newest day first.
    expect(column(out!, 'Difference (apparent losses)')).toEqual([500, 400]);
    expect(column(out!, 'District inflow')).toEqual([5_200, 5_000]);
  });
});

describe('monthly PUE', () => {
  it('counts only days where both energies were measured, and shows no month without such a day', () => {
    const it_ = frame('A', ['Time', 'it_wh'], [[JAN_1, 100_000], [JAN_1 + DAY, 100_000], [FEB_1, 90_000]]);
    // The facility meter missed 2 January and all of February; it alone read 3 January.
    const facility = frame('B', ['Time', 'facility_wh'], [[JAN_1, 150_000], [JAN_1 + 2 * DAY, 160_000]]);
    const kg = frame('C', ['Time', 'facility_kgco2e'], [[JAN_1, 7.8], [JAN_1 + 2 * DAY, 8.3]]);
    const [out] = applyTransformations([it_, facility, kg], transformationsOf('datacenter', 'Monthly PUE'));
    expect(column(out!, 'Month')).toEqual(['2026-01']);
    expect(column(out!, 'PUE')).toEqual([1.5]);
    expect(column(out!, 'IT energy')).toEqual([100_000]);
  });
});

describe('the model of Grafana', () => {
  it('sums a group of nulls to 0 and divides missing values as JavaScript does (what made NaN and 0 months)', () => {
    const days = frame('A', ['Time', 'it_wh', 'facility_wh'], [[JAN_1, null, null], [JAN_1 + DAY, null, null]]);
    const [out] = applyTransformations([days], [
      { id: 'formatTime', options: { timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true, timezone: 'Europe/Paris' } },
      { id: 'groupBy', options: { fields: { Time: { operation: 'groupby', aggregations: [] }, it_wh: { operation: 'aggregate', aggregations: ['sum'] }, facility_wh: { operation: 'aggregate', aggregations: ['sum'] } } } },
      { id: 'calculateField', options: { mode: 'binary', binary: { left: { matcher: { id: 'byName', options: 'facility_wh (sum)' } }, operator: '/', right: { matcher: { id: 'byName', options: 'it_wh (sum)' } } }, alias: 'PUE' } },
    ]);
    expect(column(out!, 'it_wh (sum)')).toEqual([0]);
    expect(column(out!, 'PUE')).toEqual([NaN]);
  });
});
