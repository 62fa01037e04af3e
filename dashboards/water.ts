/** "Réseau d'eau" / "Water network": flow, daily volume per meter, minimum night flow, leak sensors. */
import { MappingType } from '@grafana/grafana-foundation-sdk/dashboard';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { dashboardBuilder, finish, stateTimeline, steps, timeseries, barGauge, type DashboardDefinition } from './common.ts';
import { tr, type Lang } from './i18n.ts';
import { consumption, dailyMinOfHourly, influxql, scope } from './influxql.ts';

const FLOW = QUANTITIES['water.flow'];
const INDEX = QUANTITIES['metering.water.total'];
const LEAK = QUANTITIES['water.leak'];
const ALL = scope('tenant', 'site', 'device');

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
          description: { fr: 'Débit moyen mesuré par les compteurs qui le transmettent (L/h).', en: 'Mean flow measured by the meters that report it (L/h).' },
          unit: 'litreh',
          min: 0,
          targets: [influxql({ select: [{ fn: 'mean', field: FLOW.field }], from: FLOW.measurement, where: ALL, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Volume journalier par compteur', en: 'Daily volume per meter' },
          description: {
            fr: "Somme des différences positives de l'index de chaque compteur, par jour (heure de Paris). Un changement de compteur ou un retour à zéro ne donne pas de volume négatif.",
            en: "Sum of the non-negative differences of each meter's index, per day (Paris time). A meter replacement or wrap gives no negative volume.",
          },
          unit: 'litre',
          min: 0,
          bars: true,
          targets: [influxql(consumption({ measurement: INDEX.measurement, field: INDEX.field, where: ALL, interval: '1d', groupBy: ['device'] })).alias('$tag_device')],
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
          description: { fr: "Volume consommé par compteur sur la période affichée (différences positives de l'index).", en: 'Volume used per meter over the displayed period (non-negative index differences).' },
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
          span: 24,
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
      ),
  );
}

export const water: DashboardDefinition = { name: 'water', build };
