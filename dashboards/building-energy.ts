/** "Énergie des bâtiments" / "Building energy": kWh per day and month, base load, indoor temperature and CO₂. */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { dashboardBuilder, finish, steps, table, timeseries, type DashboardDefinition } from './common.ts';
import { tr, type Lang } from './i18n.ts';
import { consumption, dailyMinOfHourly, influxql, scope, TIME_ZONE, type Condition } from './influxql.ts';
import { ROLES } from '../decoders/model/roles.ts';

const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];
const TEMPERATURE = QUANTITIES['air.temperature'];
const CO2 = QUANTITIES['air.co2'];
const ALL = scope('tenant', 'site', 'device');
const MAIN_METERS: Condition[] = [...ALL, { tag: 'role', equals: ROLES.buildingMain }];
/** Rooms: every air sensor but the server-room inlet probes (they have their own dashboard). */
const ROOMS: Condition[] = [...ALL, { tag: 'role', notEquals: ROLES.itInlet }];

function monthly(lang: Lang): DataTransformerConfig[] {
  const month = tr({ fr: 'Mois', en: 'Month' }, lang);
  return [
    // Daily kWh in local days → the month of each day as text → one row per month and building.
    { id: 'formatTime', options: { timeField: 'Time', outputFormat: 'YYYY-MM', useTimezone: true, timezone: TIME_ZONE } },
    {
      id: 'groupBy',
      options: {
        fields: {
          Time: { aggregations: [], operation: 'groupby' },
          building: { aggregations: [], operation: 'groupby' },
          energy_wh: { aggregations: ['sum'], operation: 'aggregate' },
        },
      },
    },
    {
      id: 'organize',
      options: {
        renameByName: {
          Time: month,
          building: tr({ fr: 'Bâtiment', en: 'Building' }, lang),
          'energy_wh (sum)': tr({ fr: 'Énergie', en: 'Energy' }, lang),
        },
      },
    },
    { id: 'sortBy', options: { sort: [{ field: month, desc: true }] } },
  ];
}

function build(lang: Lang) {
  const daily = consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: MAIN_METERS, interval: '1d', groupBy: ['building'], as: 'energy_wh' });
  return finish(
    dashboardBuilder('building-energy', lang, {
      title: { fr: 'Énergie des bâtiments', en: 'Building energy' },
      description: {
        fr: "Consommation électrique des bâtiments (compteurs principaux, rôle « building-main »), talon de consommation, confort (température, CO₂). L'énergie vient des différences d'index, par jour en heure de Paris.",
        en: "Buildings' electricity (main meters, role 'building-main'), base load, comfort (temperature, CO₂). Energy comes from index differences, per day in Paris time.",
      },
    }, ['energie'])
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Énergie par jour et par bâtiment', en: 'Energy per day and building' },
          description: {
            fr: "Somme des différences positives de l'index d'énergie active des compteurs principaux, par jour (heure de Paris). Les sous-compteurs (salle serveur…) ne sont pas ajoutés.",
            en: 'Sum of the non-negative differences of the main meters’ active energy index, per day (Paris time). Sub-meters (server room…) are not added.',
          },
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
          description: {
            fr: "InfluxQL ne groupe pas par mois calendaire : les énergies journalières (heure de Paris) sont additionnées par mois dans Grafana (transformations « Format time » puis « Group by »). Le premier et le mois en cours sont partiels.",
            en: 'InfluxQL cannot group by calendar month: daily energies (Paris time) are added up per month in Grafana ("Format time" then "Group by" transformations). The first and the current month are partial.',
          },
          unit: 'watth',
          timeFrom: '1y',
          transformations: monthly(lang),
          targets: [influxql(daily).format('table')],
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
        timeseries(lang, {
          title: { fr: 'Température intérieure', en: 'Indoor temperature' },
          description: {
            fr: 'Température moyenne des pièces. Repères : 19 °C (chauffage, art. R241-26 du code de l’énergie) et 26 °C (climatisation, R241-30).',
            en: 'Mean room temperature. Marks: 19 °C (heating limit, French energy code R241-26) and 26 °C (cooling limit, R241-30).',
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
          span: 24,
          targets: [influxql({ select: [{ fn: 'mean', field: CO2.field }], from: CO2.measurement, where: ROOMS, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      ),
  );
}

export const buildingEnergy: DashboardDefinition = { name: 'building-energy', build };
