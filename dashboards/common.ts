/**
 * What the four dashboards share: the variables (datasource, tenant, site, device), the time settings, and thin
 * panel helpers over the foundation SDK builders that take `{ fr, en }` texts and InfluxQL targets.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataTransformerConfig,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { ROLLUP_RP } from '../services/rollups/names.ts';
import { UPLINK } from '../services/storage/schema.ts';
import { COMMON, tr, type Lang, type Text } from './i18n.ts';
import { showTagValues } from '../services/storage/influxql.ts';
import { DATASOURCE, TIME_ZONE, type InfluxQLTarget } from './influxql.ts';

/** One dashboard, generated in every language. `name` is the file stem in infra/grafana/dashboards/. */
export interface DashboardDefinition {
  name: string;
  build(lang: Lang): Dashboard;
}

export interface DashboardText {
  title: Text;
  description: Text;
}

const tagValues = (key: string, ...within: ('tenant' | 'site')[]): string =>
  showTagValues({ from: UPLINK.measurement, key, where: within.map((v) => ({ tag: v, matches: `^$${v}$` })) });

/** Variable queries read the `uplink` measurement: every device that ever reported is there. */
export const VARIABLE_QUERIES = {
  tenant: tagValues('tenant'),
  site: tagValues('site', 'tenant'),
  device: tagValues('device', 'tenant', 'site'),
} as const;

function variable(name: keyof typeof VARIABLE_QUERIES, lang: Lang, label: Text, help: Text): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(tr(label, lang))
    .description(tr(help, lang))
    .datasource(DATASOURCE)
    .query(VARIABLE_QUERIES[name])
    .definition(VARIABLE_QUERIES[name])
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    // "All" is a regex that also matches readings without the tag, and keeps queries short.
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

/** The skeleton every dashboard starts from: uid `veilleur-<name>-<lang>`, variables, Paris time, 7 days. */
export function dashboardBuilder(name: string, lang: Lang, text: DashboardText, tags: readonly string[]): DashboardBuilder {
  return new DashboardBuilder(tr(text.title, lang))
    .uid(`veilleur-${name}-${lang}`)
    .description(tr(text.description, lang))
    .tags([tr(COMMON.dashboardsTag, lang), ...tags, tr(COMMON.languageTag, lang)])
    .timezone(TIME_ZONE)
    .time({ from: 'now-7d', to: 'now' })
    .refresh('5m')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(new DatasourceVariableBuilder('datasource').label(tr(COMMON.datasource, lang)).type('influxdb'))
    .withVariable(variable('tenant', lang, COMMON.tenant, COMMON.tenantHelp))
    .withVariable(variable('site', lang, COMMON.site, COMMON.siteHelp))
    .withVariable(variable('device', lang, COMMON.device, COMMON.deviceHelp));
}

/** Width of Grafana's grid, in columns. */
export const GRID_COLUMNS = 24;

interface Placed {
  gridPos?: { x: number; y: number; w: number; h: number };
}

/**
 * Places panels left to right in their order, starting a new row when the next one does not fit in what is left
 * of the current row (the SDK only wraps after a row is full or overflowing, so a full-width panel after a
 * half-width one would stick out of the grid). A row is as tall as its tallest panel.
 */
export function layOut(panels: readonly Placed[]): void {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const p of panels) {
    const w = Math.min(p.gridPos?.w ?? GRID_COLUMNS, GRID_COLUMNS);
    const h = p.gridPos?.h ?? 8;
    if (x > 0 && x + w > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    p.gridPos = { ...p.gridPos, x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
}

/**
 * Builds, lays out and numbers the panels (Grafana would otherwise assign ids at load, differently each time).
 */
export function finish(builder: DashboardBuilder): Dashboard {
  const d = builder.build();
  layOut((d.panels ?? []) as Placed[]);
  (d.panels ?? []).forEach((p, i) => {
    p.id = i + 1;
  });
  return d;
}

export interface PanelText {
  title: Text;
  description: Text;
}

interface PanelCommon extends PanelText {
  targets: readonly InfluxQLTarget[];
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  /** Width in grid columns (24 = full width). */
  span?: number;
  height?: number;
  thresholds?: readonly Threshold[];
  mappings?: readonly ValueMapping[];
  transformations?: readonly DataTransformerConfig[];
  /** Relative time range of this panel only (`1y`, `now/M`), when it differs from the dashboard's. */
  timeFrom?: string;
  /** Shifts this panel's whole range back (`1y`: the same period last year, calendar-exact in Grafana). */
  timeShift?: string;
}

interface Common {
  title(t: string): this;
  description(t: string): this;
  datasource(d: common.DataSourceRef): this;
  withTarget(t: InfluxQLTarget): this;
  unit(u: string): this;
  decimals(d: number): this;
  min(m: number): this;
  max(m: number): this;
  span(w: number): this;
  height(h: number): this;
  thresholds(t: ThresholdsConfigBuilder): this;
  mappings(m: ValueMapping[]): this;
  withTransformation(t: DataTransformerConfig): this;
  timeFrom(t: string): this;
  timeShift(t: string): this;
}

function apply<B extends Common>(b: B, lang: Lang, p: PanelCommon): B {
  b.title(tr(p.title, lang)).description(tr(p.description, lang)).datasource(DATASOURCE);
  p.targets.forEach((t, i) => b.withTarget(t.refId(String.fromCharCode(65 + i))));
  if (p.unit !== undefined) b.unit(p.unit);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  b.span(p.span ?? 12).height(p.height ?? 8);
  if (p.thresholds) b.thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([...p.thresholds]));
  if (p.mappings) b.mappings([...p.mappings]);
  for (const t of p.transformations ?? []) b.withTransformation(t);
  if (p.timeFrom) b.timeFrom(p.timeFrom);
  if (p.timeShift) b.timeShift(p.timeShift);
  return b;
}

/** `text` followed by `note`, in every language. */
export const withNote = (text: Text, note: Text): Text => ({ fr: `${text.fr} ${note.fr}`, en: `${text.en} ${note.en}` });

/** The end of the description of every panel that reads the daily rollups: what a user sees differs from raw data. */
export const DAILY_ROLLUPS: Text = {
  fr: `Source : agrégats journaliers calculés par le service (politique « ${ROLLUP_RP['1d']} », conservés plus de 5 ans), jours complets seulement : une journée apparaît peu après minuit (heure de Paris), la journée en cours n'y est pas encore.`,
  en: `Source: the daily rollups computed by the service (policy '${ROLLUP_RP['1d']}', kept over 5 years), whole days only: a day appears shortly after midnight (Paris time), the current day is not there yet.`,
};

/**
 * The end of the description of totals over the displayed range read from raw readings: exact at both ends and
 * including today, but raw readings are kept a few months, and an older start would silently count less.
 */
export const RAW_TOTAL: Text = {
  fr: "Source : relevés bruts, exacts aux bornes de la période et jusqu'à maintenant, mais conservés quelques mois (90 jours par défaut) : au-delà, la période ne compte que ce qui reste ; les panneaux mensuels et sur 12 mois lisent les agrégats journaliers.",
  en: 'Source: raw readings, exact at both ends of the range and up to now, but kept a few months (90 days by default): beyond that, the total only counts what is left; the monthly and 12-month panels read the daily rollups.',
};

/**
 * Daily rows (one per local day and tag value, from the daily rollups) → one row per calendar month (Paris) and tag
 * value, the days added up by Grafana: InfluxQL has no calendar-month GROUP BY ("Format time" writes each day's
 * month, "Group by" sums them). Newest month first.
 */
export function monthlyTotals(lang: Lang, o: { field: string; by: { tag: string; label: Text }; label: Text }): DataTransformerConfig[] {
  const month = tr(COMMON.month, lang);
  return [
    { id: 'formatTime', options: { timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true, timezone: TIME_ZONE } },
    {
      id: 'groupBy',
      options: {
        fields: {
          Time: { aggregations: [], operation: 'groupby' },
          [o.by.tag]: { aggregations: [], operation: 'groupby' },
          [o.field]: { aggregations: ['sum'], operation: 'aggregate' },
        },
      },
    },
    { id: 'organize', options: { renameByName: { Time: month, [o.by.tag]: tr(o.by.label, lang), [`${o.field} (sum)`]: tr(o.label, lang) } } },
    { id: 'sortBy', options: { sort: [{ field: month, desc: true }] } },
  ];
}

export const steps = (...s: [color: string, from: number | null][]): Threshold[] => s.map(([color, value]) => ({ color, value }));

export function timeseries(lang: Lang, p: PanelCommon & { bars?: boolean; stacked?: boolean; showThresholds?: boolean }): TimeseriesBuilder {
  const b = apply(new TimeseriesBuilder(), lang, p)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .spanNulls(false);
  if (p.bars) b.drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80).barAlignment(common.BarAlignment.After).lineWidth(1);
  else b.drawStyle(common.GraphDrawStyle.Line).lineWidth(1).fillOpacity(10).showPoints(common.VisibilityMode.Never);
  if (p.stacked) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(p.showThresholds ? common.GraphThresholdsStyleMode.DashedAndArea : common.GraphThresholdsStyleMode.Off));
  return b;
}

export function table(lang: Lang, p: PanelCommon): TableBuilder {
  return apply(new TableBuilder(), lang, p).cellHeight(common.TableCellHeight.Sm);
}

export function stat(lang: Lang, p: PanelCommon & { fields?: string }): StatBuilder {
  const reduce = new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
  if (p.fields) reduce.fields(p.fields);
  return apply(new StatBuilder(), lang, p)
    .reduceOptions(reduce)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.Value);
}

export function barGauge(lang: Lang, p: PanelCommon): BarGaugeBuilder {
  return apply(new BarGaugeBuilder(), lang, p)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic);
}

export function stateTimeline(lang: Lang, p: PanelCommon): StateTimelineBuilder {
  return apply(new StateTimelineBuilder(), lang, p).showValue(common.VisibilityMode.Never).mergeValues(true).rowHeight(0.8);
}
