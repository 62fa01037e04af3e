/**
 * "Centre de données et salles serveurs" / "Datacenter and server rooms": IT vs total energy, PUE (daily, monthly,
 * rolling 12 months, this month against the same month last year), kgCO₂e, inlet temperatures.
 */
import { BigValueTextMode } from '@grafana/grafana-foundation-sdk/common';
import { CustomVariableBuilder, type DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { PUE_CATEGORIES, type PueCategory } from '../services/datacenter/kpi.ts';
import { factorText, kgCo2e } from './building-energy.ts';
import { DAILY_ROLLUPS, RAW_TOTAL, dashboardBuilder, finish, stat, steps, table, timeseries, withNote, type DashboardDefinition } from './common.ts';
import { tr, type Lang, type Text } from './i18n.ts';
import { consumption, influxql, rollupConsumption, scope, TIME_ZONE, type Aggregation, type Condition, type Expr } from './influxql.ts';
import { ROLLUP_RP, type Resolution } from '../services/rollups/names.ts';
import { ROLES } from '../decoders/model/roles.ts';

const ENERGY_ID = 'metering.electricity.activeEnergy';
const ENERGY = QUANTITIES[ENERGY_ID];
const TEMPERATURE = QUANTITIES['air.temperature'];
const HUMIDITY = QUANTITIES['air.relativeHumidity'];
const ALL = scope('tenant', 'site', 'device');
const role = (r: string): Condition[] => [...ALL, { tag: 'role', equals: r }];

/**
 * Where a panel's energy comes from: raw readings (exact range, today included) or the rollups (whole periods, kept
 * for years: days for monthly and 12-month figures, hours for the same days last year).
 */
type Source = 'raw' | Resolution;

/**
 * Energy of one role of the selected rooms (Wh, or `value` of it), per day or over the range. Days without data
 * give no row (`fill(none)`): a null day would become 0 in Grafana's sums and joins, and a PUE of 0/0.
 */
function energy(source: Source, r: string, as: string, interval?: '1d', value?: (wh: Aggregation) => Expr) {
  const o = { where: role(r), groupBy: [], as, ...(interval ? { interval, fill: 'none' as const } : {}), ...(value ? { value } : {}) };
  return influxql(
    source === 'raw' ? consumption({ measurement: ENERGY.measurement, field: ENERGY.field, ...o }) : rollupConsumption({ quantity: ENERGY_ID, resolution: source, ...o }),
  ).format('table');
}

/** IT and facility energy of the selected rooms, as `it_wh` and `facility_wh`, per day or over the range. */
function energyTargets(source: Source, interval?: '1d') {
  return [energy(source, ROLES.itLoad, 'it_wh', interval), energy(source, ROLES.facilityTotal, 'facility_wh', interval)];
}

/** Emissions of the selected rooms' whole energy (`facility_kgco2e`) or IT energy (`it_kgco2e`). */
function emissionTarget(source: Source, r: string, as: string, interval?: '1d') {
  return energy(source, r, as, interval, kgCo2e);
}

/**
 * The PUE measurement category (ISO/IEC 30134-2: where the IT energy is metered) is configuration, not data: a
 * dashboard variable, shown in the PUE titles, with the labels of services/datacenter/kpi.ts.
 */
const CATEGORY_TEXT: Record<PueCategory, Text> = {
  'category 1 (UPS output)': { fr: 'catégorie 1 (sortie des onduleurs)', en: PUE_CATEGORIES[1] },
  'category 2 (PDU output)': { fr: 'catégorie 2 (sortie des PDU)', en: PUE_CATEGORIES[2] },
  'category 3 (IT equipment input)': { fr: 'catégorie 3 (entrée des équipements)', en: PUE_CATEGORIES[3] },
  unknown: { fr: 'catégorie non renseignée', en: 'category not configured' },
};
const CATEGORY_VARIABLE = 'pue_category';
const CATEGORY_IN_TITLE = `\${${CATEGORY_VARIABLE}:text}`;

function categoryVariable(lang: Lang): CustomVariableBuilder {
  const unknown = { text: tr(CATEGORY_TEXT.unknown, lang), value: 'unknown' };
  const options = [unknown, ...([1, 2, 3] as const).map((c) => ({ text: tr(CATEGORY_TEXT[PUE_CATEGORIES[c]], lang), value: String(c) }))];
  return new CustomVariableBuilder(CATEGORY_VARIABLE)
    .label(tr({ fr: 'Catégorie de mesure du PUE', en: 'PUE measurement category' }, lang))
    .description(
      tr(
        {
          fr: "Où l'énergie informatique est mesurée (ISO/IEC 30134-2) : 1 sortie des onduleurs, 2 sortie des PDU, 3 entrée des équipements. Les compteurs ne le disent pas : choisir la valeur passée à « veilleur report datacenter --category ».",
          en: "Where the IT energy is metered (ISO/IEC 30134-2): 1 UPS output, 2 PDU output, 3 IT equipment input. Meters cannot tell: pick the value given to 'veilleur report datacenter --category'.",
        },
        lang,
      ),
    )
    // Grafana's custom variable syntax: "text : value" pairs separated by commas.
    .values(options.map((o) => `${o.text} : ${o.value}`).join(', '))
    .options(options.map((o, i) => ({ ...o, selected: i === 0 })))
    .allowCustomValue(false)
    .current({ ...unknown, selected: true });
}

/**
 * Daily energies → the days where both energies were measured → calendar months (Paris) → one row per month: IT,
 * total, kgCO₂e, PUE. Joining the days first keeps a day metered on one side only out of both sums, and a month
 * without any such day out of the table (no row, where a sum of nothing would be 0 and the PUE 0/0).
 */
function monthlyPue(lang: Lang): DataTransformerConfig[] {
  const month = tr({ fr: 'Mois', en: 'Month' }, lang);
  const sum = (f: string) => ({ [f]: { aggregations: ['sum'], operation: 'aggregate' } });
  return [
    { id: 'joinByField', options: { byField: 'Time', mode: 'inner' } },
    { id: 'formatTime', options: { timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true, timezone: TIME_ZONE } },
    { id: 'groupBy', options: { fields: { Time: { aggregations: [], operation: 'groupby' }, ...sum('it_wh'), ...sum('facility_wh'), ...sum('facility_kgco2e') } } },
    {
      id: 'calculateField',
      options: {
        mode: 'binary',
        binary: { left: { matcher: { id: 'byName', options: 'facility_wh (sum)' } }, operator: '/', right: { matcher: { id: 'byName', options: 'it_wh (sum)' } } },
        alias: 'PUE',
        replaceFields: false,
      },
    },
    {
      id: 'organize',
      options: {
        indexByName: { Time: 0, PUE: 1, 'it_wh (sum)': 2, 'facility_wh (sum)': 3, 'facility_kgco2e (sum)': 4 },
        renameByName: {
          Time: month,
          'it_wh (sum)': tr({ fr: 'Énergie informatique', en: 'IT energy' }, lang),
          'facility_wh (sum)': tr({ fr: 'Énergie totale', en: 'Total energy' }, lang),
          'facility_kgco2e (sum)': tr({ fr: 'Émissions', en: 'Emissions' }, lang),
        },
      },
    },
    { id: 'sortBy', options: { sort: [{ field: month, desc: true }] } },
  ];
}

/**
 * Both queries side by side (one row per day, or one for the range), then PUE = facility / IT, computed by
 * Grafana. An inner join: a PUE only where both energies were measured (an outer join would divide by a missing
 * value, which Grafana's arithmetic turns into 0, Infinity or NaN).
 */
const PUE: DataTransformerConfig[] = [
  { id: 'joinByField', options: { byField: 'Time', mode: 'inner' } },
  {
    id: 'calculateField',
    options: {
      mode: 'binary',
      binary: { left: { matcher: { id: 'byName', options: 'facility_wh' } }, operator: '/', right: { matcher: { id: 'byName', options: 'it_wh' } } },
      alias: 'PUE',
      replaceFields: false,
    },
  },
];
const PUE_STEPS = steps(['green', null], ['orange', 1.5], ['red', 2]);

/**
 * This month so far, and (with `timeShift: '1y'`) the same days of the same month last year. This month reads raw
 * readings (up to now; raw data are kept longer than a month); last year's are long gone from raw data, so the
 * shifted panel reads the hourly rollups (kept two years), which end at the same hour where daily ones would count
 * the whole of the same date.
 */
function monthToDate(lang: Lang, lastYear: boolean) {
  const source: Source = lastYear ? '1h' : 'raw';
  return stat(lang, {
    title: lastYear
      ? { fr: "Même mois l'an dernier (mêmes jours)", en: 'Same month last year (same days)' }
      : { fr: 'Mois en cours', en: 'This month so far' },
    description: lastYear
      ? {
          fr: `Énergie totale, PUE et émissions du 1er du mois au même jour et à la même heure, un an plus tôt : le panneau « Mois en cours » décalé d'un an par Grafana (option « Time shift » de la requête, exacte au calendrier, années bissextiles comprises). InfluxQL n'a pas de décalage portable : la durée \`1y\` n'existe qu'en 3.x, et 365d glisse d'un jour les années bissextiles. Source : agrégats horaires du service (politique « ${ROLLUP_RP['1h']} », conservés 2 ans), les relevés bruts d'il y a un an n'étant plus conservés ; l'heure en cours d'il y a un an compte en entier.`,
          en: `Total energy, PUE and emissions from the 1st of the month to the same day and hour, one year earlier: the 'This month so far' panel shifted by one year by Grafana (the query 'Time shift' option, calendar-exact, leap years included). InfluxQL has no portable shift: the \`1y\` duration exists only in 3.x, and 365d slips by a day in leap years. Source: the service's hourly rollups (policy '${ROLLUP_RP['1h']}', kept 2 years), since raw readings of a year ago are no longer kept; the hour in progress a year ago counts in full.`,
        }
      : {
          fr: "Énergie totale, PUE et émissions du 1er du mois à maintenant (heure de Paris), à comparer au panneau voisin : le même mois l'an dernier. Un PUE sur moins de 12 mois est un PUE intermédiaire (ISO/IEC 30134-2). Source : relevés bruts (jusqu'à maintenant).",
          en: 'Total energy, PUE and emissions from the 1st of the month until now (Paris time), to compare with the next panel: the same month last year. A PUE over less than 12 months is an interim PUE (ISO/IEC 30134-2). Source: raw readings (up to now).',
        },
    span: 12,
    height: 6,
    fields: '/^(facility_wh|PUE|facility_kgco2e)$/',
    thresholds: steps(['text', null]),
    transformations: PUE,
    timeFrom: 'now/M',
    ...(lastYear ? { timeShift: '1y' } : {}),
    targets: [...energyTargets(source), emissionTarget(source, ROLES.facilityTotal, 'facility_kgco2e')],
  })
    .textMode(BigValueTextMode.ValueAndName)
    .overrideByName('facility_wh', [{ id: 'unit', value: 'watth' }, { id: 'displayName', value: tr({ fr: 'Énergie totale', en: 'Total energy' }, lang) }])
    .overrideByName('PUE', [{ id: 'unit', value: 'none' }, { id: 'decimals', value: 2 }])
    .overrideByName('facility_kgco2e', [{ id: 'unit', value: 'suffix: kgCO₂e' }, { id: 'decimals', value: 1 }, { id: 'displayName', value: tr({ fr: 'Émissions', en: 'Emissions' }, lang) }]);
}

function build(lang: Lang) {
  const perDay = (r: string, name: string) =>
    influxql(rollupConsumption({ quantity: ENERGY_ID, resolution: '1d', where: role(r), interval: '1d', groupBy: ['site'] })).alias(`${name} – $tag_site`);
  return finish(
    dashboardBuilder('datacenter', lang, {
      title: { fr: 'Centre de données et salles serveurs', en: 'Datacenter and server rooms' },
      description: {
        fr: "Énergie des équipements informatiques (rôle « it-load ») et de la salle entière (rôle « facility-total »), PUE journalier, mensuel et sur 12 mois glissants avec sa catégorie de mesure (ISO/IEC 30134-2), émissions de CO₂, mois en cours face au même mois l'an dernier, températures d'entrée d'air des baies (rôle « it-inlet »). Indicateurs de la loi REEN.",
        en: "Energy of the IT equipment (role 'it-load') and of the whole room (role 'facility-total'), daily, monthly and rolling 12-month PUE with its measurement category (ISO/IEC 30134-2), CO₂ emissions, this month against the same month last year, rack inlet temperatures (role 'it-inlet').",
      },
    }, ['salle-serveur', 'pue'])
      .withVariable(categoryVariable(lang))
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Énergie informatique et énergie totale par jour', en: 'IT and total energy per day' },
          description: withNote(
            {
              fr: "Différences positives des index des compteurs, par jour (heure de Paris) et par site : équipements informatiques d'un côté, salle entière (informatique + froid + pertes) de l'autre.",
              en: 'Non-negative index differences, per day (Paris time) and site: IT equipment on one side, the whole room (IT + cooling + losses) on the other.',
            },
            DAILY_ROLLUPS,
          ),
          unit: 'watth',
          min: 0,
          bars: true,
          span: 24,
          targets: [perDay(ROLES.itLoad, tr({ fr: 'Informatique', en: 'IT' }, lang)), perDay(ROLES.facilityTotal, tr({ fr: 'Total salle', en: 'Facility total' }, lang))],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'PUE journalier', en: 'Daily PUE' },
          description: withNote(
            {
              fr: "PUE = énergie totale de la salle / énergie informatique, par jour. InfluxQL ne divise pas deux requêtes entre elles : les deux énergies journalières sont jointes sur le temps puis divisées par Grafana (transformations « Join by field » et « Add field from calculation »). Seuls les jours où les deux énergies sont mesurées ont un PUE. Toutes les salles sélectionnées sont additionnées : choisir un site pour le PUE d'une salle.",
              en: "PUE = whole-room energy / IT energy, per day. InfluxQL cannot divide one query by another: both daily energies are joined on time, then divided by Grafana ('Join by field' and 'Add field from calculation' transformations). Only days where both energies were measured have a PUE. All selected rooms are added up: pick one site for one room's PUE.",
            },
            DAILY_ROLLUPS,
          ),
          span: 14,
          transformations: PUE,
          targets: energyTargets('1d', '1d'),
        }).overrideByName('PUE', [{ id: 'decimals', value: 2 }, { id: 'unit', value: 'none' }])
          .overrideByRegexp('_wh$', [{ id: 'unit', value: 'watth' }]),
      )
      .withPanel(
        stat(lang, {
          title: { fr: 'PUE sur la période', en: 'PUE over the period' },
          description: withNote(
            {
              fr: "Énergie totale / énergie informatique sur toute la période affichée (mêmes transformations que le tableau). 1,0 serait parfait ; au-delà de 2, le froid et les pertes consomment plus que l'informatique.",
              en: 'Total energy / IT energy over the displayed period (same transformations as the table). 1.0 would be perfect; above 2, cooling and losses use more than the IT itself.',
            },
            RAW_TOTAL,
          ),
          span: 10,
          decimals: 2,
          unit: 'none',
          fields: '/^PUE$/',
          thresholds: PUE_STEPS,
          transformations: PUE,
          targets: energyTargets('raw'),
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: `PUE mensuel – ${CATEGORY_IN_TITLE}`, en: `Monthly PUE – ${CATEGORY_IN_TITLE}` },
          description: withNote(
            {
              fr: `Par mois calendaire (heure de Paris), 12 derniers mois : énergie informatique, énergie totale, PUE = total / informatique et émissions de la salle (${factorText.fr}). InfluxQL ne groupe pas par mois : seuls les jours où les deux énergies sont mesurées comptent (« Join by field »), puis leurs énergies sont additionnées par mois dans Grafana (« Format time », « Group by ») et divisées. Un mois sans aucun de ces jours n'a pas de ligne. Le premier et le mois en cours sont partiels ; un PUE mensuel est un PUE intermédiaire (ISO/IEC 30134-2), le PUE de référence est celui de 12 mois. La catégorie de mesure vient de la variable « Catégorie de mesure du PUE ».`,
              en: `Per calendar month (Paris time), last 12 months: IT energy, total energy, PUE = total / IT and the room's emissions (${factorText.en}). InfluxQL cannot group by month: only days where both energies were measured count ('Join by field'), then their energies are added up per month in Grafana ('Format time', 'Group by') and divided. A month without any such day has no row. The first and the current month are partial; a monthly PUE is an interim PUE (ISO/IEC 30134-2), the reference PUE is the 12-month one. The measurement category comes from the 'PUE measurement category' variable.`,
            },
            DAILY_ROLLUPS,
          ),
          span: 24,
          timeFrom: '1y',
          transformations: monthlyPue(lang),
          targets: [...energyTargets('1d', '1d'), emissionTarget('1d', ROLES.facilityTotal, 'facility_kgco2e', '1d')],
        })
          .overrideByName('PUE', [{ id: 'decimals', value: 2 }, { id: 'unit', value: 'none' }])
          .overrideByName(tr({ fr: 'Émissions', en: 'Emissions' }, lang), [{ id: 'unit', value: 'suffix: kgCO₂e' }, { id: 'decimals', value: 1 }])
          .overrideByRegexp(tr({ fr: '^Énergie', en: 'energy$' }, lang), [{ id: 'unit', value: 'watth' }]),
      )
      .withPanel(
        stat(lang, {
          title: { fr: `PUE sur 12 mois glissants – ${CATEGORY_IN_TITLE}`, en: `PUE over the last 12 months – ${CATEGORY_IN_TITLE}` },
          description: withNote(
            {
              fr: "Énergie totale / énergie informatique des 12 derniers mois, quelle que soit la période affichée : le PUE annuel de l'ISO/IEC 30134-2 (le seul comparable d'une salle à l'autre). Tant que les compteurs ont moins d'un an, c'est un PUE intermédiaire. Moyenne des centres de données : ≈ 1,56 (Uptime Institute 2024) ; petites salles : 1,5 à 2,1.",
              en: "Total energy / IT energy over the last 12 months, whatever the displayed range: the annual PUE of ISO/IEC 30134-2 (the only one comparable between rooms). While the meters are less than a year old, it is an interim PUE. Datacentre average: ≈ 1.56 (Uptime Institute 2024); small server rooms: 1.5 to 2.1.",
            },
            DAILY_ROLLUPS,
          ),
          span: 12,
          height: 6,
          decimals: 2,
          unit: 'none',
          fields: '/^PUE$/',
          thresholds: PUE_STEPS,
          timeFrom: '1y',
          transformations: PUE,
          targets: energyTargets('1d'),
        }),
      )
      .withPanel(
        stat(lang, {
          title: { fr: 'Émissions sur la période', en: 'Emissions over the period' },
          description: withNote(
            {
              fr: `Émissions de l'énergie totale de la salle et de sa part informatique sur la période affichée : énergie × ${factorText.fr}.`,
              en: `Emissions of the room's total energy and of its IT part over the displayed period: energy × ${factorText.en}.`,
            },
            RAW_TOTAL,
          ),
          span: 12,
          height: 6,
          decimals: 1,
          unit: 'suffix: kgCO₂e',
          thresholds: steps(['text', null]),
          targets: [emissionTarget('raw', ROLES.facilityTotal, 'facility_kgco2e'), emissionTarget('raw', ROLES.itLoad, 'it_kgco2e')],
        })
          .textMode(BigValueTextMode.ValueAndName)
          .overrideByName('facility_kgco2e', [{ id: 'displayName', value: tr({ fr: 'Salle entière', en: 'Whole room' }, lang) }])
          .overrideByName('it_kgco2e', [{ id: 'displayName', value: tr({ fr: 'Informatique', en: 'IT' }, lang) }]),
      )
      .withPanel(monthToDate(lang, false))
      .withPanel(monthToDate(lang, true))
      .withPanel(
        timeseries(lang, {
          title: { fr: "Températures d'entrée d'air des baies", en: 'Rack inlet temperatures' },
          description: {
            fr: "Température moyenne à l'entrée d'air des baies, face à la plage recommandée de 18 à 27 °C (ASHRAE). En dessous de 18 °C, la salle est refroidie inutilement.",
            en: 'Mean rack inlet temperature against the recommended 18–27 °C range (ASHRAE). Below 18 °C, the room is cooled for nothing.',
          },
          unit: 'celsius',
          span: 24,
          thresholds: steps(['blue', null], ['green', 18], ['red', 27]),
          showThresholds: true,
          targets: [
            influxql({ select: [{ fn: 'mean', field: TEMPERATURE.field }], from: TEMPERATURE.measurement, where: role(ROLES.itInlet), interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device'),
          ],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: "Humidité relative à l'entrée d'air des baies", en: 'Rack inlet relative humidity' },
          description: {
            fr: "Humidité relative moyenne à l'entrée d'air des baies. Au-dessus de 60 %, risque de condensation et de corrosion (plage recommandée ASHRAE, 2008) ; la règle D3 surveille aussi le point de rosée (> 15 °C ou < −9 °C).",
            en: 'Mean relative humidity at the rack inlets. Above 60 %, risk of condensation and corrosion (ASHRAE recommended range, 2008); rule D3 also watches the dew point (> 15 °C or < −9 °C).',
          },
          unit: 'percent',
          min: 0,
          max: 100,
          span: 24,
          thresholds: steps(['green', null], ['red', 60]),
          showThresholds: true,
          targets: [
            influxql({ select: [{ fn: 'mean', field: HUMIDITY.field }], from: HUMIDITY.measurement, where: role(ROLES.itInlet), interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device'),
          ],
        }),
      ),
  );
}

export const datacenter: DashboardDefinition = { name: 'datacenter', build };
