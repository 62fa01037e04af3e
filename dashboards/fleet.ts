/** "Parc de capteurs" / "Device fleet": last seen, battery, radio, airtime, uplinks and undecodable messages. */
import { TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import { QUANTITIES } from '../decoders/model/quantities.ts';
import { UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from '../services/storage/schema.ts';
import { barGauge, dashboardBuilder, finish, steps, table, timeseries, type DashboardDefinition } from './common.ts';
import { tr, type Lang } from './i18n.ts';
import { influxql, scope, type Aggregate, type Interval, type SelectQuery } from './influxql.ts';

const BATTERY_V = QUANTITIES.battery;
const BATTERY_PCT = QUANTITIES.batteryLevel;
const ALL = scope('tenant', 'site', 'device');
type UplinkField = keyof typeof UPLINK.fields;

/** One aggregate of an `uplink` field per device. */
function uplink(fn: Aggregate, field: UplinkField, interval?: Interval, as?: string): SelectQuery {
  return {
    select: [{ fn, field, ...(as ? { as } : {}) }],
    from: UPLINK.measurement,
    where: ALL,
    groupBy: ['device'],
    ...(interval ? { interval, fill: interval === '1d' ? 0 : 'null', localTime: interval === '1d' } : {}),
  };
}

function build(lang: Lang) {
  const lastSeen = tr({ fr: 'Dernier message', en: 'Last seen' }, lang);
  const undecodedField: keyof typeof UPLINK_UNDECODED.fields = 'f_cnt';
  const rejectedField: keyof typeof UPLINK_REJECTED.fields = 'message_bytes';
  return finish(
    dashboardBuilder('fleet', lang, {
      title: { fr: 'Parc de capteurs', en: 'Device fleet' },
      description: {
        fr: 'Santé du parc LoRaWAN : dernier message, piles, qualité radio, temps d’antenne, messages reçus et messages non décodables.',
        en: 'LoRaWAN fleet health: last message, batteries, radio quality, airtime, uplinks received and undecodable messages.',
      },
    }, ['parc'])
      .withPanel(
        table(lang, {
          title: { fr: 'Dernier message par capteur', en: 'Last message per device' },
          description: {
            fr: 'Heure du dernier message reçu de chaque capteur sur la période, et son compteur de trames (les plus anciens en premier : capteurs muets ?).',
            en: 'Time of the last message received from each device over the period, and its frame counter (oldest first: silent devices?).',
          },
          span: 12,
          height: 10,
          transformations: [
            {
              id: 'organize',
              options: {
                renameByName: {
                  Time: lastSeen,
                  device: tr({ fr: 'Capteur', en: 'Device' }, lang),
                  f_cnt: tr({ fr: 'Compteur de trames', en: 'Frame counter' }, lang),
                },
              },
            },
          ],
          targets: [influxql(uplink('last', 'f_cnt', undefined, 'f_cnt')).format('table')],
        }).sortBy([new TableSortByFieldStateBuilder().displayName(lastSeen).desc(false)]),
      )
      .withPanel(
        barGauge(lang, {
          title: { fr: "Facteur d'étalement moyen", en: 'Mean spreading factor' },
          description: {
            fr: "Facteur d'étalement (SF) moyen par capteur sur la période : SF 7 = portée courte et peu de temps d'antenne, SF 12 = longue portée, 30 fois plus de temps d'antenne.",
            en: 'Mean spreading factor per device over the period: SF7 = short range and little airtime, SF12 = long range, 30 times more airtime.',
          },
          span: 12,
          height: 10,
          min: 7,
          max: 12,
          decimals: 1,
          thresholds: steps(['green', null], ['orange', 10], ['red', 11.5]),
          targets: [influxql(uplink('mean', 'sf')).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Tension des piles', en: 'Battery voltage' },
          description: { fr: 'Tension de pile transmise par les capteurs qui la mesurent.', en: 'Battery voltage reported by the devices that measure it.' },
          unit: 'volt',
          targets: [influxql({ select: [{ fn: 'mean', field: BATTERY_V.field }], from: BATTERY_V.measurement, where: ALL, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Niveau des piles', en: 'Battery level' },
          description: { fr: 'Niveau de pile (%) transmis par les capteurs qui le donnent.', en: 'Battery level (%) reported by the devices that give it.' },
          unit: 'percent',
          min: 0,
          max: 100,
          thresholds: steps(['red', null], ['orange', 20], ['green', 40]),
          showThresholds: true,
          targets: [influxql({ select: [{ fn: 'mean', field: BATTERY_PCT.field }], from: BATTERY_PCT.measurement, where: ALL, interval: '$__interval', groupBy: ['device'], fill: 'null' }).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Meilleur RSSI', en: 'Best RSSI' },
          description: { fr: 'Meilleur RSSI sur les passerelles qui ont reçu chaque message (maximum par intervalle).', en: 'Best RSSI over the gateways that received each uplink (maximum per interval).' },
          unit: 'dBm',
          targets: [influxql(uplink('max', 'rssi_dbm', '$__interval')).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Meilleur SNR', en: 'Best SNR' },
          description: { fr: 'Meilleur rapport signal sur bruit sur les passerelles (maximum par intervalle).', en: 'Best signal-to-noise ratio over the gateways (maximum per interval).' },
          unit: 'dB',
          targets: [influxql(uplink('max', 'snr_db', '$__interval')).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: "Temps d'antenne par jour", en: 'Airtime per day' },
          description: {
            fr: "Somme des temps d'antenne des messages, par jour (heure de Paris) : valeur du serveur de réseau, sinon calculée depuis SF, bande et taille (borne basse).",
            en: 'Sum of the uplinks’ time on air, per day (Paris time): the network server’s value, else computed from SF, bandwidth and size (a lower bound).',
          },
          unit: 'ms',
          min: 0,
          bars: true,
          stacked: true,
          targets: [influxql(uplink('sum', 'airtime_ms', '1d')).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Messages par jour', en: 'Uplinks per day' },
          description: { fr: 'Nombre de messages reçus par capteur et par jour (heure de Paris).', en: 'Uplinks received per device and day (Paris time).' },
          unit: 'short',
          min: 0,
          bars: true,
          stacked: true,
          targets: [influxql(uplink('count', 'f_cnt', '1d')).alias('$tag_device')],
        }),
      )
      .withPanel(
        timeseries(lang, {
          title: { fr: 'Messages non décodables par jour', en: 'Undecodable messages per day' },
          description: {
            fr: "Messages valides qu'aucun décodeur n'a su lire (gardés bruts, à redécoder avec « veilleur redecode »), et messages MQTT rejetés (pas un événement valide du serveur de réseau, ou d'une autre collectivité que son sujet MQTT), par raison. Les rejetés n'appartiennent à aucune collectivité : ils n'apparaissent que pour l'ensemble de l'instance (« Collectivité » sur « All »), jamais dans la vue d'une commune.",
            en: "Valid uplinks no decoder could read (kept raw, to decode again with 'veilleur redecode'), and rejected MQTT messages (not a valid network-server event, or claiming another organisation than its MQTT topic), by reason. Rejected messages belong to no organisation: they only show for the whole instance ('Organisation' on 'All'), never in one commune's view.",
          },
          unit: 'short',
          min: 0,
          bars: true,
          stacked: true,
          span: 24,
          targets: [
            influxql({ select: [{ fn: 'count', field: undecodedField }], from: UPLINK_UNDECODED.measurement, where: scope('tenant'), interval: '1d', groupBy: ['reason'], fill: 0, localTime: true }).alias(
              `${tr({ fr: 'non décodé', en: 'undecoded' }, lang)} : $tag_reason`,
            ),
            // No tenant tag on rejected messages: the "All" regex matches the missing tag, a commune's name does not.
            influxql({ select: [{ fn: 'count', field: rejectedField }], from: UPLINK_REJECTED.measurement, where: scope('tenant'), interval: '1d', groupBy: ['reason'], fill: 0, localTime: true }).alias(
              `${tr({ fr: 'rejeté', en: 'rejected' }, lang)} : $tag_reason`,
            ),
          ],
        }),
      ),
  );
}

export const fleet: DashboardDefinition = { name: 'fleet', build };
