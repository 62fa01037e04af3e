/**
 * "Énergie des bâtiments" / "Building energy": kWh per day and month, base load, out-of-hours share, kWh per
 * heating degree-day, kgCO₂e, indoor temperature and CO₂.
 */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { siteCalendarSchema, type SiteCalendar } from '../services/time/calendar.ts';
import { DJU_BASE_C } from '../services/time/degree-days.ts';
import { DEFAULT_EMISSION_FACTOR_ID, EMISSION_FACTORS, type EmissionFactor } from '../services/datacenter/emission-factors.ts';
import { DAILY_ROLLUPS, RAW_TOTAL, dashboardBuilder, finish, monthlyTotals, steps, table, timeseries, withNote, type DashboardDefinition } from './common.ts';
import { tr, type Lang } from './i18n.ts';
import { add, consumption, dailyMinOfHourly, div, influxql, mul, rollupConsumption, scope, sub, TIME_ZONE, type Aggregation, type Condition, type Expr, type SelectQuery } from './influxql.ts';
import { ROLES } from '../decoders/model/roles.ts';

const ENERGY_ID = 'metering.electricity.activeEnergy';
const ENERGY = QUANTITIES[ENERGY_ID];
const TEMPERATURE = QUANTITIES['air.temperature'];
const CO2 = QUANTITIES['air.co2'];
const ALL = scope('tenant', 'site', 'device');
const MAIN_METERS: Condition[] = [...ALL, { tag: 'role', equals: ROLES.buildingMain }];
/**
 * Rooms: the sensors registered as rooms (role `room`), and only them. Meters and leak sensors also measure a
 * temperature (of their electronics, of a pipe): excluding some roles would let every new kind of device in.
 */
const ROOMS: Condition[] = [...ALL, { tag: 'role', equals: ROLES.room }];

/** The electricity emission factor of the reports (ADEME mix moyen), shared with the datacenter dashboard. */
export const EMISSION_FACTOR: EmissionFactor = EMISSION_FACTORS[DEFAULT_EMISSION_FACTOR_ID];
/** Wh → kgCO₂e: × factor (kgCO₂e/kWh) / 1000. */
export const kgCo2e = (wh: Expr): Expr => div(mul(wh, EMISSION_FACTOR.kgCo2ePerKwh), 1000);
export const factorText = {
  fr: `facteur ${EMISSION_FACTOR.kgCo2ePerKwh} kgCO₂e/kWh (${EMISSION_FACTOR.id}, ADEME « mix moyen – consommation », millésime ${EMISSION_FACTOR.vintage}, à vérifier sur la Base Empreinte avant une publication officielle)`,
  en: `factor ${EMISSION_FACTOR.kgCo2ePerKwh} kgCO₂e/kWh (${EMISSION_FACTOR.id}, ADEME "average mix – consumption", ${EMISSION_FACTOR.vintage} vintage, to check against Base Empreinte before an official publication)`,
};

// ---------------------------------------------------------------------------------------------------------
// Out-of-hours share

const ISO_WEEKDAYS = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 } as const satisfies Record<keyof SiteCalendar['openingHours'], number>;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * A regex matching the hours `E HH` (ISO weekday 1–7, local hour, as Grafana's "Format time" writes them) that
 * are open in these opening hours: an hour counts as open when its middle (HH:30) is inside a range, so a
 * half-hour opening is rounded to the nearer hour. Days with the same hours share one alternative.
 */
export function openHoursRegex(hours: SiteCalendar['openingHours']): string {
  const byHours = new Map<string, number[]>();
  for (const [day, ranges] of Object.entries(hours) as [keyof typeof ISO_WEEKDAYS, string[]][]) {
    const open = Array.from({ length: 24 }, (_, h) => h).filter((h) =>
      ranges.some((r) => {
        const [from = '', to = ''] = r.split('-');
        return minutes(from) <= h * 60 + 30 && h * 60 + 30 < minutes(to);
      }),
    );
    if (open.length === 0) continue;
    const key = open.map((h) => String(h).padStart(2, '0')).join('|');
    byHours.set(key, [...(byHours.get(key) ?? []), ISO_WEEKDAYS[day]]);
  }
  if (byHours.size === 0) return '^$';
  const alternatives = [...byHours].map(([h, days]) => `[${days.sort().join('')}] (${h})`);
  return `^(${alternatives.join('|')})$`;
}

/** The default calendar of the sites (services/time/calendar.ts): Monday to Friday, 08:00–18:00. */
export const DEFAULT_OPENING_HOURS = siteCalendarSchema.parse({}).openingHours;

function outOfHoursShare(lang: Lang): DataTransformerConfig[] {
  const hourly = { id: 'byRefId', options: 'B' };
  return [
    // B: hourly energy → "E HH" in Paris time → drop open hours → sum per building.
    { id: 'formatTime', filter: hourly, options: { timeField: 'Time', outputFormat: 'E HH', useTimezone: true, timezone: TIME_ZONE } },
    {
      id: 'filterByValue',
      filter: hourly,
      options: { type: 'exclude', match: 'any', filters: [{ fieldName: 'Time', config: { id: 'regex', options: { value: openHoursRegex(DEFAULT_OPENING_HOURS) } } }] },
    },
    { id: 'groupBy', filter: hourly, options: { fields: { building: { aggregations: [], operation: 'groupby' }, out_wh: { aggregations: ['sum'], operation: 'aggregate' } } } },
    // A: total over the range, per building.
    { id: 'joinByField', options: { byField: 'building', mode: 'inner' } },
    {
      id: 'calculateField',
      options: {
        mode: 'binary',
        binary: { left: { matcher: { id: 'byName', options: 'out_wh (sum)' } }, operator: '/', right: { matcher: { id: 'byName', options: 'total_wh' } } },
        alias: 'out_share',
        replaceFields: false,
      },
    },
    {
      id: 'organize',
      options: {
        excludeByName: { Time: true },
        indexByName: { building: 0, out_share: 1, 'out_wh (sum)': 2, total_wh: 3 },
        renameByName: {
          building: tr({ fr: 'Bâtiment', en: 'Building' }, lang),
          out_share: tr({ fr: 'Part hors heures', en: 'Out-of-hours share' }, lang),
          'out_wh (sum)': tr({ fr: 'Énergie hors heures', en: 'Out-of-hours energy' }, lang),
          total_wh: tr({ fr: 'Énergie totale', en: 'Total energy' }, lang),
        },
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Heating degree-days (DJU, base 18 °C, "météo" method: services/time/degree-days.ts, whose coverage rule, 18 hours
// of a day, InfluxQL cannot express; partial days at the range's edges count with the readings available)

const outdoorT = (fn: 'min' | 'max'): Aggregation => ({ fn, field: TEMPERATURE.field });

/**
 * DJU per site and local day: 18 − (Tmin + Tmax) / 2 of the site's outdoor sensors (role `outdoor`, every
 * probe), days at or above 18 °C counting 0 (the `> 0` filter stands for max(0, …), which InfluxQL lacks).
 * Days without a reading are absent, not zero. Per day, not one total: InfluxDB 1.x returns nothing for an
 * ungrouped aggregate over daily subquery buckets when the range starts after the first bucket's midnight.
 */
export function degreeDays(): SelectQuery {
  return {
    select: [{ fn: 'sum', field: 'dju', as: 'dju' }],
    from: {
      select: [{ expr: sub(DJU_BASE_C, div(add(outdoorT('min'), outdoorT('max')), 2)), as: 'dju' }],
      from: TEMPERATURE.measurement,
      where: [...scope('tenant', 'site'), { tag: 'role', equals: ROLES.outdoor }],
      interval: '1d',
      groupBy: ['site'],
      fill: 'none',
      localTime: true,
    },
    where: [{ field: 'dju', greaterThan: 0 }],
    interval: '1d',
    groupBy: ['site'],
    fill: 'none',
    localTime: true,
  };
}

function perDegreeDay(lang: Lang): DataTransformerConfig[] {
  return [
    // B: daily DJU → their sum per site.
    { id: 'groupBy', filter: { id: 'byRefId', options: 'B' }, options: { fields: { site: { aggregations: [], operation: 'groupby' }, dju: { aggregations: ['sum'], operation: 'aggregate' } } } },
    { id: 'joinByField', options: { byField: 'site', mode: 'inner' } },
    {
      id: 'calculateField',
      options: {
        mode: 'binary',
        binary: { left: { matcher: { id: 'byName', options: 'energy_kwh' } }, operator: '/', right: { matcher: { id: 'byName', options: 'dju (sum)' } } },
        alias: 'kwh_per_dju',
        replaceFields: false,
      },
    },
    {
      id: 'organize',
      options: {
        excludeByName: { Time: true },
        indexByName: { site: 0, kwh_per_dju: 1, energy_kwh: 2, 'dju (sum)': 3 },
        renameByName: {
          site: tr({ fr: 'Site', en: 'Site' }, lang),
          kwh_per_dju: tr({ fr: 'kWh par DJU', en: 'kWh per degree-day' }, lang),
          energy_kwh: tr({ fr: 'Énergie (kWh)', en: 'Energy (kWh)' }, lang),
          'dju (sum)': tr({ fr: 'DJU (base 18 °C)', en: 'Degree-days (base 18 °C)' }, lang),
        },
      },
    },
  ];
}

function build(lang: Lang) {
  // Whole local days from the daily rollups: the same query feeds the daily bars and the monthly table.
  const daily = rollupConsumption({ quantity: ENERGY_ID, resolution: '1d', where: MAIN_METERS, interval: '1d', groupBy: ['building'], as: 'energy_wh' });
  // The monthly sums read only the days that have data: a null day would make a month without data 0 kWh in Grafana.
  const dailyForMonths: typeof daily = { ...daily, fill: 'none' };
  return finish(
    dashboardBuilder('building-energy', lang, {
      title: { fr: 'Énergie des bâtiments', en: 'Building energy' },
      description: {
        fr: "Consommation électrique des bâtiments (compteurs principaux, rôle « building-main »), talon, part hors heures d'ouverture, kWh par degré-jour (capteur extérieur, rôle « outdoor »), émissions de CO₂, confort (température, CO₂). L'énergie vient des différences d'index, par jour en heure de Paris.",
        en: "Buildings' electricity (main meters, role 'building-main'), base load, out-of-hours share, kWh per degree-day (outdoor sensor, role 'outdoor'), CO₂ emissions, comfort (temperature, CO₂). Energy comes from index differences, per day in Paris time.",
      },
    }, ['energie'])
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Énergie par jour et par bâtiment', en: 'Energy per day and building' },
          description: withNote(
            {
              fr: "Somme des différences positives de l'index d'énergie active des compteurs principaux, par jour (heure de Paris). Les sous-compteurs (salle serveur…) ne sont pas ajoutés.",
              en: 'Sum of the non-negative differences of the main meters’ active energy index, per day (Paris time). Sub-meters (server room…) are not added.',
            },
            DAILY_ROLLUPS,
          ),
          unit: 'watth',
          min: 0,
          bars: true,
          stacked: true,
          targets: [influxql(daily).alias('$tag_building')],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'Énergie par mois et par bâtiment (12 derniers mois)', en: 'Energy per month and building (last 12 months)' },
          description: withNote(
            {
              fr: "InfluxQL ne groupe pas par mois calendaire : les énergies journalières (heure de Paris) sont additionnées par mois dans Grafana (transformations « Format time » puis « Group by »). Le premier et le mois en cours sont partiels ; un mois sans aucun relevé n'a pas de ligne (il n'est pas compté 0 kWh).",
              en: 'InfluxQL cannot group by calendar month: daily energies (Paris time) are added up per month in Grafana ("Format time" then "Group by" transformations). The first and the current month are partial; a month without any reading has no row (it is not counted as 0 kWh).',
            },
            DAILY_ROLLUPS,
          ),
          unit: 'watth',
          timeFrom: '1y',
          transformations: monthlyTotals(lang, { field: 'energy_wh', by: { tag: 'building', label: { fr: 'Bâtiment', en: 'Building' } }, label: { fr: 'Énergie', en: 'Energy' } }),
          targets: [influxql(dailyForMonths).format('table')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Talon de consommation', en: 'Base load' },
          description: {
            fr: "Plus petite énergie horaire de chaque jour (Wh en une heure = puissance moyenne en W) : la puissance appelée quand le bâtiment est vide (nuits, week-ends). Suppose des relevés au moins horaires.",
            en: 'Smallest hourly energy of each day (Wh in one hour = mean power in W): the power drawn when the building is empty (nights, weekends). Assumes at least hourly readings.',
          },
          unit: 'watt',
          min: 0,
          targets: [influxql(dailyMinOfHourly({ measurement: ENERGY.measurement, field: ENERGY.field, where: MAIN_METERS, groupBy: ['building'] })).alias('$tag_building')],
        }),
      )
      .withPanel(
        table(lang, {
          title: { fr: "Part de l'énergie hors heures d'ouverture", en: 'Share of energy outside opening hours' },
          description: withNote(
            {
              fr: "Énergie consommée hors heures d'ouverture / énergie totale, par bâtiment, sur la période. InfluxQL ne sait pas filtrer par heure de la journée : l'énergie horaire est lue, Grafana écrit chaque heure en « jour de semaine + heure » (heure de Paris) puis retire les heures d'ouverture (transformations « Format time », « Filter data by values », « Group by »). Approximation : le calendrier par défaut des sites (lundi–vendredi, 08:00–18:00) ; les calendriers propres à chaque site, jours fériés et fermetures (vacances scolaires) ne sont pas connus de Grafana, et comptent comme ouverts. Un bâtiment sobre reste sous 30 à 40 % (nuits et week-ends font plus des deux tiers des heures).",
              en: "Energy used outside opening hours / total energy, per building, over the period. InfluxQL cannot filter by hour of day: the hourly energy is read, Grafana writes each hour as 'weekday + hour' (Paris time) and removes the opening hours ('Format time', 'Filter data by values', 'Group by' transformations). Approximation: the sites' default calendar (Monday–Friday, 08:00–18:00); per-site calendars, public holidays and closures (school holidays) are unknown to Grafana and count as open. A sober building stays below 30–40 % (nights and weekends are over two thirds of the hours).",
            },
            RAW_TOTAL,
          ),
          transformations: outOfHoursShare(lang),
          targets: [
            influxql(consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: MAIN_METERS, groupBy: ['building'], as: 'total_wh' })).format('table'),
            influxql(consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: MAIN_METERS, interval: '1h', groupBy: ['building'], as: 'out_wh', fill: 'none' })).format('table'),
          ],
        }).overrideByName(tr({ fr: 'Part hors heures', en: 'Out-of-hours share' }, lang), [{ id: 'unit', value: 'percentunit' }, { id: 'decimals', value: 1 }])
          .overrideByRegexp(`^${tr({ fr: 'Énergie', en: '(Out-of-hours|Total) energy' }, lang)}`, [{ id: 'unit', value: 'watth' }]),
      )
      .withPanel(
        table(lang, {
          title: { fr: 'Énergie par degré-jour de chauffage (DJU)', en: 'Energy per heating degree-day' },
          description: withNote(
            {
              fr: `kWh des compteurs principaux / DJU de la période, par site. DJU base ${DJU_BASE_C} °C, méthode « météo » : chaque jour (heure de Paris), max(0 ; ${DJU_BASE_C} − (Tmin + Tmax) / 2) du capteur extérieur du site (rôle « outdoor ») ; les sites sans capteur extérieur n'apparaissent pas. Le rapport se compare d'une période à l'autre quand la météo change ; il porte sur toute l'électricité du bâtiment, pas seulement le chauffage (OPERAT ne corrige que la part chauffage). Jours incomplets en bord de période : Tmin et Tmax sur les relevés disponibles. InfluxQL ne divise pas deux requêtes : Grafana joint par site puis divise.`,
              en: `Main-meter kWh / degree-days of the period, per site. Base ${DJU_BASE_C} °C, 'météo' method: each day (Paris time), max(0, ${DJU_BASE_C} − (Tmin + Tmax) / 2) of the site's outdoor sensor (role 'outdoor'); sites without an outdoor sensor are not listed. The ratio compares periods with different weather; it covers all the building's electricity, not only heating (OPERAT adjusts only the heating part). Partial days at the range edges use the readings available. InfluxQL cannot divide two queries: Grafana joins by site, then divides.`,
            },
            RAW_TOTAL,
          ),
          transformations: perDegreeDay(lang),
          targets: [
            influxql(consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: MAIN_METERS, groupBy: ['site'], as: 'energy_kwh', value: (wh) => div(wh, 1000) })).format('table'),
            influxql(degreeDays()).format('table'),
          ],
        }).overrideByName(tr({ fr: 'kWh par DJU', en: 'kWh per degree-day' }, lang), [{ id: 'decimals', value: 1 }])
          .overrideByName(tr({ fr: 'DJU (base 18 °C)', en: 'Degree-days (base 18 °C)' }, lang), [{ id: 'decimals', value: 1 }]),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Émissions de CO₂ par jour et par bâtiment', en: 'CO₂ emissions per day and building' },
          description: withNote(
            {
              fr: `Énergie journalière des compteurs principaux (heure de Paris) × ${factorText.fr}. Facteur d'inventaire (analyse de cycle de vie), pas le signal horaire du réseau.`,
              en: `Daily energy of the main meters (Paris time) × ${factorText.en}. An inventory factor (life-cycle), not the grid's hourly signal.`,
            },
            DAILY_ROLLUPS,
          ),
          unit: 'suffix: kgCO₂e',
          decimals: 1,
          min: 0,
          bars: true,
          stacked: true,
          targets: [
            influxql(rollupConsumption({ quantity: ENERGY_ID, resolution: '1d', where: MAIN_METERS, interval: '1d', groupBy: ['building'], as: 'kg_co2e', value: kgCo2e })).alias('$tag_building'),
          ],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Température intérieure', en: 'Indoor temperature' },
          description: {
            fr: 'Température moyenne des pièces (capteurs enregistrés comme pièces, rôle « room » : ni les compteurs, ni les détecteurs de fuite, ni les sondes de salle serveur ou extérieures). Repères : 19 °C (chauffage, art. R241-26 du code de l’énergie) et 26 °C (climatisation, R241-30).',
            en: "Mean room temperature (sensors registered as rooms, role 'room': not meters, leak sensors, server-room or outdoor probes). Marks: 19 °C (heating limit, French energy code R241-26) and 26 °C (cooling limit, R241-30).",
          },
          unit: 'celsius',
          thresholds: steps(['blue', null], ['green', 19], ['red', 26]),
          showThresholds: true,
          targets: [influxql({ select: [{ fn: 'mean', field: TEMPERATURE.field }], from: TEMPERATURE.measurement, where: ROOMS, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'CO₂', en: 'CO₂' },
          description: {
            fr: 'Concentration moyenne de CO₂. Repères : 800 ppm (aérer) et 1 500 ppm (air confiné, à éviter dans les écoles).',
            en: 'Mean CO₂ concentration. Marks: 800 ppm (ventilate) and 1,500 ppm (stale air, to avoid in schools).',
          },
          unit: 'ppm',
          thresholds: steps(['green', null], ['orange', 800], ['red', 1500]),
          showThresholds: true,
          targets: [influxql({ select: [{ fn: 'mean', field: CO2.field }], from: CO2.measurement, where: ROOMS, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      ),
  );
}

export const buildingEnergy: DashboardDefinition = { name: 'building-energy', build };
