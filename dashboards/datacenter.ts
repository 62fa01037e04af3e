/** "Centre de données et salles serveurs" / "Datacenter and server rooms": IT vs total energy, PUE, inlet temperatures. */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { dashboardBuilder, finish, stat, steps, table, timeseries, type DashboardDefinition } from './common.ts';
import { tr, type Lang } from './i18n.ts';
import { consumption, influxql, scope, type Condition, type Interval } from './influxql.ts';
import { ROLES } from '../decoders/model/roles.ts';

const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];
const TEMPERATURE = QUANTITIES['air.temperature'];
const ALL = scope('tenant', 'site', 'device');
const role = (r: string): Condition[] => [...ALL, { tag: 'role', equals: r }];

/** IT and facility energy of the selected rooms, as `it_wh` and `facility_wh`, per day or over the range. */
function energyTargets(interval: Interval | undefined) {
  const q = (r: string, as: string) => influxql(consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: role(r), groupBy: [], as, ...(interval ? { interval } : {}) })).format('table');
  return [q(ROLES.itLoad, 'it_wh'), q(ROLES.facilityTotal, 'facility_wh')];
}

/** Both queries side by side (one row per day), then PUE = facility / IT, computed by Grafana. */
const PUE: DataTransformerConfig[] = [
  { id: 'joinByField', options: { byField: 'Time', mode: 'outer' } },
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

function build(lang: Lang) {
  const perDay = (r: string, name: string) =>
    influxql(consumption({ measurement: ENERGY.measurement, field: ENERGY.field, where: role(r), interval: '1d', groupBy: ['site'] })).alias(`${name} – $tag_site`);
  return finish(
    dashboardBuilder('datacenter', lang, {
      title: { fr: 'Centre de données et salles serveurs', en: 'Datacenter and server rooms' },
      description: {
        fr: "Énergie des équipements informatiques (rôle « it-load ») et de la salle entière (rôle « facility-total »), PUE journalier, températures d'entrée d'air des baies (rôle « it-inlet »). Indicateurs de la loi REEN.",
        en: "Energy of the IT equipment (role 'it-load') and of the whole room (role 'facility-total'), daily PUE, rack inlet temperatures (role 'it-inlet').",
      },
    }, ['salle-serveur', 'pue'])
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Énergie informatique et énergie totale par jour', en: 'IT and total energy per day' },
          description: {
            fr: "Différences positives des index des compteurs, par jour (heure de Paris) et par site : équipements informatiques d'un côté, salle entière (informatique + froid + pertes) de l'autre.",
            en: 'Non-negative index differences, per day (Paris time) and site: IT equipment on one side, the whole room (IT + cooling + losses) on the other.',
          },
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
          description: {
            fr: "PUE = énergie totale de la salle / énergie informatique, par jour. InfluxQL ne divise pas deux requêtes entre elles : les deux énergies journalières sont jointes sur le temps puis divisées par Grafana (transformations « Join by field » et « Add field from calculation »). Toutes les salles sélectionnées sont additionnées : choisir un site pour le PUE d'une salle.",
            en: "PUE = whole-room energy / IT energy, per day. InfluxQL cannot divide one query by another: both daily energies are joined on time, then divided by Grafana ('Join by field' and 'Add field from calculation' transformations). All selected rooms are added up: pick one site for one room's PUE.",
          },
          span: 14,
          transformations: PUE,
          targets: energyTargets('1d'),
        }).overrideByName('PUE', [{ id: 'decimals', value: 2 }, { id: 'unit', value: 'none' }])
          .overrideByRegexp('_wh$', [{ id: 'unit', value: 'watth' }]),
      )
      .withPanel(
        stat(lang, {
          title: { fr: 'PUE sur la période', en: 'PUE over the period' },
          description: {
            fr: "Énergie totale / énergie informatique sur toute la période affichée (mêmes transformations que le tableau). 1,0 serait parfait ; au-delà de 2, le froid et les pertes consomment plus que l'informatique.",
            en: 'Total energy / IT energy over the displayed period (same transformations as the table). 1.0 would be perfect; above 2, cooling and losses use more than the IT itself.',
          },
          span: 10,
          decimals: 2,
          unit: 'none',
          fields: '/^PUE$/',
          thresholds: PUE_STEPS,
          transformations: PUE,
          targets: energyTargets(undefined),
        }),
      )
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
      ),
  );
}

export const datacenter: DashboardDefinition = { name: 'datacenter', build };
