/**
 * "Réseau d'eau" / "Water network": flow, daily and monthly volume per meter, minimum night flow, leak sensors,
 * district balance, open water alerts.
 */
import { MappingType, type DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { ROLES } from '../decoders/model/roles.ts';
import { ALERT_EVENT, type AlertCategory, type AlertSeverity as Severity, type AlertStateValue as AlertState } from '../services/storage/schema.ts';
import { DAILY_ROLLUPS, RAW_TOTAL, dashboardBuilder, finish, monthlyTotals, stateTimeline, steps, table, timeseries, barGauge, withNote, type DashboardDefinition } from './common.ts';
import { tr, type Lang, type Text } from './i18n.ts';
import { consumption, dailyMinOfHourly, indexRate, influxql, rollupConsumption, scope, type Condition, type Fill, type SelectQuery } from './influxql.ts';

const FLOW = QUANTITIES['water.flow'];
const INDEX_ID = 'metering.water.total';
const INDEX = QUANTITIES[INDEX_ID];
const LEAK = QUANTITIES['water.leak'];
const ALL = scope('tenant', 'site', 'device');

/**
 * Volume per meter and whole local day, from the daily rollups. `fill: 'none'` for the monthly sums: a day without
 * data must not be a null row, which Grafana's sum would turn into a month of 0 L.
 */
const dailyVolume = (as?: string, fill?: Fill) =>
  rollupConsumption({ quantity: INDEX_ID, resolution: '1d', where: ALL, interval: '1d', groupBy: ['device'], ...(as ? { as } : {}), ...(fill !== undefined ? { fill } : {}) });

/**
 * District (DMA) balance, per commune and site as rule W8 computes it: the site's inflow meters against its other
 * water meters, per local day. Never across sites or communes: one commune's buildings are not fed by another
 * commune's reservoir.
 */
const INFLOW: Condition = { tag: 'role', equals: ROLES.districtInflow };
const NOT_INFLOW: Condition = { tag: 'role', notEquals: ROLES.districtInflow };
const districtVolume = (role: Condition, as: string) =>
  influxql(rollupConsumption({ quantity: INDEX_ID, resolution: '1d', where: [...ALL, role], interval: '1d', groupBy: ['tenant', 'site'], as, fill: 'none' })).format('table');

function districtBalance(lang: Lang): DataTransformerConfig[] {
  const inflow = 'inflow_l';
  const metered = 'metered_l';
  return [
    // One row per day, commune and site (the fields both queries have): a join on several keys.
    { id: 'merge', options: {} },
    // A balance needs both sides: a site with an inflow meter and no other meter (or the reverse) has none.
    {
      id: 'filterByValue',
      options: { type: 'exclude', match: 'any', filters: [inflow, metered].map((fieldName) => ({ fieldName, config: { id: 'isNull', options: {} } })) },
    },
    {
      id: 'calculateField',
      options: {
        mode: 'binary',
        binary: { left: { matcher: { id: 'byName', options: 'inflow_l' } }, operator: '-', right: { matcher: { id: 'byName', options: 'metered_l' } } },
        alias: 'balance_l',
        replaceFields: false,
      },
    },
    {
      id: 'organize',
      options: {
        indexByName: { Time: 0, tenant: 1, site: 2, balance_l: 3, inflow_l: 4, metered_l: 5 },
        renameByName: {
          Time: tr({ fr: 'Jour', en: 'Day' }, lang),
          tenant: tr({ fr: 'Collectivité', en: 'Organisation' }, lang),
          site: tr({ fr: 'Site', en: 'Site' }, lang),
          inflow_l: tr({ fr: 'Entrée du secteur', en: 'District inflow' }, lang),
          metered_l: tr({ fr: 'Compteurs desservis', en: 'Metered consumption' }, lang),
          balance_l: tr({ fr: 'Écart (pertes apparentes)', en: 'Difference (apparent losses)' }, lang),
        },
      },
    },
    { id: 'sortBy', options: { sort: [{ field: tr({ fr: 'Jour', en: 'Day' }, lang), desc: true }] } },
  ];
}

/** Water alerts: every event of the range, raw (alert_id is a field, so InfluxQL cannot group by it). */
type AlertField = keyof typeof ALERT_EVENT.fields | (typeof ALERT_EVENT.tags)[number];
const WATER_CATEGORY: AlertCategory = 'water';
const RESOLVED: AlertState = 'resolved';
const ALERT_COLUMNS: readonly AlertField[] = ['alert_id', 'state', 'rule', 'severity', 'site', 'device', 'message_fr', 'message_en'];
const alertEvents: SelectQuery = {
  select: ALERT_COLUMNS.map((field) => ({ field })),
  from: ALERT_EVENT.measurement,
  where: [...scope('tenant', 'site'), { tag: 'category' satisfies AlertField, equals: WATER_CATEGORY }],
};
/** How far back the panel looks for events: the window the service itself rebuilds its open alerts from. */
const ALERT_LOOKBACK = '90d';

const STATES: Record<Exclude<AlertState, 'resolved'>, Text & { color: string }> = {
  open: { fr: 'Ouverte', en: 'Open', color: 'red' },
  acknowledged: { fr: 'Prise en compte', en: 'Acknowledged', color: 'orange' },
};
const SEVERITIES: Record<Severity, Text & { color: string }> = {
  critical: { fr: 'Critique', en: 'Critical', color: 'dark-red' },
  major: { fr: 'Majeure', en: 'Major', color: 'red' },
  warning: { fr: 'Avertissement', en: 'Warning', color: 'orange' },
  info: { fr: 'Information', en: 'Information', color: 'blue' },
};

function openAlerts(lang: Lang): DataTransformerConfig[] {
  const last = (f: AlertField | 'Time') => `${f} (last)`;
  const message: AlertField = lang === 'fr' ? 'message_fr' : 'message_en';
  const otherMessage: AlertField = lang === 'fr' ? 'message_en' : 'message_fr';
  const since = tr({ fr: 'Dernier évènement', en: 'Last event' }, lang);
  return [
    // One row per alert: its latest event (rows come in time order) gives its current state.
    {
      id: 'groupBy',
      options: {
        fields: Object.fromEntries([
          ['alert_id', { aggregations: [], operation: 'groupby' }],
          ...(['Time', ...ALERT_COLUMNS.filter((c) => c !== 'alert_id')] as const).map((f) => [f, { aggregations: ['last'], operation: 'aggregate' }]),
        ]),
      },
    },
    // Still open = latest event is not a resolution.
    { id: 'filterByValue', options: { type: 'exclude', match: 'any', filters: [{ fieldName: last('state'), config: { id: 'regex', options: { value: `^${RESOLVED}$` } } }] } },
    { id: 'sortBy', options: { sort: [{ field: last('Time'), desc: true }] } },
    {
      id: 'organize',
      options: {
        excludeByName: { alert_id: true, [last(otherMessage)]: true },
        indexByName: { [last('Time')]: 0, [last('state')]: 1, [last('severity')]: 2, [last('rule')]: 3, [last('site')]: 4, [last('device')]: 5, [last(message)]: 6 },
        renameByName: {
          [last('Time')]: since,
          [last('state')]: tr({ fr: 'État', en: 'State' }, lang),
          [last('severity')]: tr({ fr: 'Gravité', en: 'Severity' }, lang),
          [last('rule')]: tr({ fr: 'Règle', en: 'Rule' }, lang),
          [last('site')]: tr({ fr: 'Site', en: 'Site' }, lang),
          [last('device')]: tr({ fr: 'Capteur', en: 'Device' }, lang),
          [last(message)]: tr({ fr: 'Explication', en: 'Explanation' }, lang),
        },
      },
    },
  ];
}

function build(lang: Lang) {
  return finish(
    dashboardBuilder('water', lang, {
      title: { fr: "Réseau d'eau", en: 'Water network' },
      description: {
        fr: "Débits, volumes journaliers, débit minimum de nuit et détecteurs de fuite. Les volumes viennent des différences d'index des compteurs (jamais d'une somme d'échantillons).",
        en: 'Flows, daily volumes, minimum night flow and leak sensors. Volumes come from meter index differences (never from a sum of samples).',
      },
    }, ['eau'])
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Débit', en: 'Flow' },
          description: {
            fr: "Débit moyen de chaque compteur (L/h). La plupart des compteurs ne transmettent que leur index : leur débit est l'écart d'index entre deux relevés divisé par le temps qui les sépare (courbe « d'après l'index »), donc un débit moyen sur l'intervalle de relevé (15 min à 1 h en général), pas un débit instantané. Les compteurs qui transmettent un débit mesuré ont aussi leur courbe.",
            en: "Mean flow of each meter (L/h). Most meters only report their index: their flow is the index difference between two readings divided by the time between them (the 'from the index' curve), hence a mean over the reporting interval (15 min to 1 h as a rule), not an instantaneous flow. Meters that report a measured flow also have their own curve.",
          },
          unit: 'litreh',
          min: 0,
          targets: [
            influxql({ select: [{ fn: 'mean', field: FLOW.field }], from: FLOW.measurement, where: ALL, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias(`$tag_device (${tr({ fr: 'mesuré', en: 'measured' }, lang)})`),
            influxql(indexRate({ measurement: INDEX.measurement, field: INDEX.field, where: ALL, as: 'flow_l_h' })).alias(`$tag_device (${tr({ fr: "d'après l'index", en: 'from the index' }, lang)})`),
          ],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Volume journalier par compteur', en: 'Daily volume per meter' },
          description: withNote(
            {
              fr: "Somme des différences positives de l'index de chaque compteur, par jour (heure de Paris). Un changement de compteur ou un retour à zéro ne donne pas de volume négatif.",
              en: "Sum of the non-negative differences of each meter's index, per day (Paris time). A meter replacement or wrap gives no negative volume.",
            },
            DAILY_ROLLUPS,
          ),
          unit: 'litre',
          min: 0,
          bars: true,
          targets: [influxql(dailyVolume()).alias('$tag_device')],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'Volume par mois et par compteur (12 derniers mois)', en: 'Volume per month and meter (last 12 months)' },
          description: withNote(
            {
              fr: "Volume de chaque compteur par mois calendaire (heure de Paris), quelle que soit la période affichée. InfluxQL ne groupe pas par mois : les volumes journaliers sont additionnés par mois dans Grafana (transformations « Format time » puis « Group by »). Le premier et le mois en cours sont partiels ; un mois sans aucun relevé n'a pas de ligne (il n'est pas compté 0 L).",
              en: 'Volume of each meter per calendar month (Paris time), whatever the displayed range. InfluxQL cannot group by month: daily volumes are added up per month in Grafana ("Format time" then "Group by" transformations). The first and the current month are partial; a month without any reading has no row (it is not counted as 0 L).',
            },
            DAILY_ROLLUPS,
          ),
          unit: 'litre',
          timeFrom: '1y',
          transformations: monthlyTotals(lang, { field: 'volume_l', by: { tag: 'device', label: { fr: 'Compteur', en: 'Meter' } }, label: { fr: 'Volume', en: 'Volume' } }),
          targets: [influxql(dailyVolume('volume_l', 'none')).format('table')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Débit minimum de nuit (approché)', en: 'Minimum night flow (approximate)' },
          description: {
            fr: "Approximation : plus petit volume horaire de la journée (L en une heure = L/h moyen), et non le minimum entre 2 h et 4 h, qu'InfluxQL ne sait pas isoler. Une valeur qui ne redescend jamais vers zéro signale une fuite. Suppose des relevés au moins horaires.",
            en: 'Approximation: the smallest hourly volume of the day (L in one hour = mean L/h), not the minimum between 02:00 and 04:00, which InfluxQL cannot isolate. A value that never goes back to zero points to a leak. Assumes at least hourly readings.',
          },
          unit: 'litreh',
          min: 0,
          targets: [influxql(dailyMinOfHourly({ measurement: INDEX.measurement, field: INDEX.field, where: ALL, groupBy: ['device'] })).alias('$tag_device')],
        }),
      )
      .withPanel(
        barGauge(lang, {
          title: { fr: 'Volume sur la période', en: 'Volume over the period' },
          description: withNote(
            { fr: "Volume consommé par compteur sur la période affichée (différences positives de l'index).", en: 'Volume used per meter over the displayed period (non-negative index differences).' },
            RAW_TOTAL,
          ),
          unit: 'litre',
          min: 0,
          thresholds: steps(['blue', null]),
          targets: [
            influxql(consumption({ measurement: INDEX.measurement, field: INDEX.field, where: ALL, groupBy: ['device'] })).alias('$tag_device'),
          ],
        }),
      )
      .withPanel(
        stateTimeline(lang, {
          title: { fr: 'Détecteurs de fuite', en: 'Leak sensors' },
          description: { fr: "Dernier état transmis par chaque détecteur de fuite : présence d'eau ou sec.", en: 'Last state reported by each leak sensor: water detected or dry.' },
          mappings: [
            {
              type: MappingType.ValueToText,
              options: {
                true: { text: tr({ fr: 'Fuite', en: 'Leak' }, lang), color: 'red', index: 0 },
                false: { text: tr({ fr: 'Sec', en: 'Dry' }, lang), color: 'green', index: 1 },
              },
            },
          ],
          targets: [influxql({ select: [{ fn: 'last', field: LEAK.field }], from: LEAK.measurement, where: ALL, interval: '$__interval', groupBy: ['device'], fill: 'previous' }).alias('$tag_device')],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'Bilan de secteur par site (entrée − compteurs desservis)', en: 'District balance per site (inflow − metered)' },
          description: withNote(
            {
              fr: "Par jour (heure de Paris), commune et site, comme la règle W8 : volume des compteurs d'entrée de secteur du site (rôle « district-inflow » dans le registre), volume des autres compteurs d'eau du même site, et leur écart (fuites du réseau, usagers non comptés, erreurs de comptage). Jamais d'un site ou d'une commune à l'autre : pour un bilan, placer dans le registre l'entrée et les compteurs qu'elle dessert sur le même site. Un jour ou un site où l'un des deux côtés manque n'a pas de ligne. InfluxQL ne soustrait pas deux requêtes : Grafana réunit les deux par jour, commune et site (« Merge ») puis calcule l'écart (« Add field from calculation »).",
              en: "Per day (Paris time), commune and site, as rule W8 computes it: volume of the site's district inflow meters (role 'district-inflow' in the registry), volume of the other water meters of the same site, and the difference (network leaks, unmetered users, metering errors). Never from one site or commune to another: for a balance, register the inflow and the meters it feeds on the same site. A day or site where either side is missing has no row. InfluxQL cannot subtract two queries: Grafana puts both together per day, commune and site ('Merge'), then computes the difference ('Add field from calculation').",
            },
            DAILY_ROLLUPS,
          ),
          unit: 'litre',
          span: 24,
          transformations: districtBalance(lang),
          targets: [districtVolume(INFLOW, 'inflow_l'), districtVolume(NOT_INFLOW, 'metered_l')],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'Alertes eau en cours', en: 'Open water alerts' },
          description: {
            fr: `Alertes de la catégorie eau dont le dernier évènement (table « ${ALERT_EVENT.measurement} ») n'est pas une résolution : ouvertes ou prises en compte. InfluxQL ne sait pas grouper par identifiant d'alerte (c'est un champ) : les évènements des ${ALERT_LOOKBACK.replace('d', ' derniers jours')} sont lus tels quels, puis Grafana garde le dernier de chaque alerte (« Group by ») et écarte les résolues (« Filter data by values »). Même fenêtre que celle dont le service reconstruit ses alertes ouvertes au démarrage.`,
            en: `Water alerts whose latest event (measurement '${ALERT_EVENT.measurement}') is not a resolution: open or acknowledged. InfluxQL cannot group by alert id (it is a field): the events of the last ${ALERT_LOOKBACK.replace('d', ' days')} are read as they are, then Grafana keeps each alert's latest one ('Group by') and drops the resolved ones ('Filter data by values'). The same window the service rebuilds its open alerts from at start-up.`,
          },
          span: 24,
          timeFrom: ALERT_LOOKBACK,
          mappings: [
            {
              type: MappingType.ValueToText,
              options: Object.fromEntries(
                [...Object.entries(STATES), ...Object.entries(SEVERITIES)].map(([value, t], index) => [value, { text: tr(t, lang), color: t.color, index }]),
              ),
            },
          ],
          transformations: openAlerts(lang),
          targets: [influxql(alertEvents).format('table')],
        }),
      ),
  );
}

export const water: DashboardDefinition = { name: 'water', build };
