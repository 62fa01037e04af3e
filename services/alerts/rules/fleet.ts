/**
 * Rules on the devices themselves:
 * - S1 silent device: no uplink for more than 3 × its usual interval (learnt from its uplinks over 30 days);
 * - P1 radio parsimony (a sobriety rule for the fleet itself): a device that spends more than 30 s a day on air (the
 * fair-use budget of The Things Network's community network, a sensible bound on any shared public network) or
 * that reports far more often than the rules reading its data need. Each uplink's time on air is computed from
 * its spreading factor, bandwidth and payload size as stored in `uplink` (services/radio/airtime.ts), so it can be
 * checked by hand with any LoRa airtime calculator.
 */
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { loraAirtimeMs } from '../../radio/airtime.ts';
import { roleLabel } from '../../registry/names.ts';
import { seriesRows, type InfluxSeries } from '../../storage/influx.ts';
import { during, fields, select } from '../../storage/influxql.ts';
import { UPLINK } from '../../storage/schema.ts';
import { describeSubject, formatNumber, formatTime, upperFirst, type Finding, type RuleInfo } from '../model.ts';
import { defineRule, num, paramsFor, type WindowedRule } from './define.ts';
import { DAY, deviceSubject, HOUR, memoByPeriod, round1 } from './common.ts';

/**
 * How often a device of each role needs to report, in minutes: the finest step a rule or report reads from it.
 * A device of another role (or none) is only held to the airtime budget.
 */
export const NEEDED_INTERVAL_MIN: Record<string, number> = {
  // A1 "above 800 ppm for 10 min": one reading every 10 min.
  [ROLES.room]: 10,
  // D1 "outside 18–27 °C for 15 min": a few readings inside 15 min.
  [ROLES.itInlet]: 5,
  // E5 daily minimum and maximum.
  [ROLES.outdoor]: 30,
  // W2 rolling hour on 15-min data (UKWIR); W1 hourly volumes.
  [ROLES.waterMain]: 15,
  [ROLES.districtInflow]: 15,
  // The state is sent at once on a change; the heartbeat only proves the sensor alive (W7S).
  [ROLES.leakSensor]: 60,
  // E4 hourly profile, BACS hourly step (R175-3), PUE: 15 min is the finest useful.
  [ROLES.buildingMain]: 15,
  [ROLES.itLoad]: 15,
  [ROLES.facilityTotal]: 15,
  [ROLES.cooling]: 15,
  [ROLES.other]: 15,
};

/** "Sonde d'ambiance" as it reads inside a sentence: "sonde d'ambiance". */
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Which reading reveals a device's role (the `uplink` measurement has no role tag). */
const ROLE_PROBES = [
  { q: QUANTITIES['air.temperature'], roles: [ROLES.room, ROLES.itInlet, ROLES.outdoor] },
  { q: QUANTITIES['metering.water.total'], roles: [ROLES.waterMain, ROLES.districtInflow] },
  { q: QUANTITIES['water.leak'], roles: [ROLES.leakSensor] },
  { q: QUANTITIES['metering.electricity.activeEnergy'], roles: [ROLES.buildingMain, ROLES.itLoad, ROLES.facilityTotal, ROLES.cooling, ROLES.other] },
];

export const P1_DEFAULTS = { maxAirtimeSecondsPerDay: 30, factor: 4 };

export function parsimonyRule(opts: typeof P1_DEFAULTS = P1_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'P1',
    version: 1,
    category: 'fleet',
    title: { fr: 'Radio peu sobre', en: 'Radio not parsimonious' },
    source: { text: { fr: "30 s de temps d'émission radio par appareil et par jour ; le temps d'émission de chaque message est calculé à partir de son facteur d'étalement, de sa bande passante et de sa taille. Les intervalles de mesure nécessaires à chaque rôle sont des réglages par défaut de Veilleur (le pas le plus fin que lisent ses règles)", en: "30 s of uplink airtime per device per day; each uplink's time on air from its spreading factor, bandwidth and size. Needed reporting intervals per role are Veilleur defaults (the finest step its rules read)" }, reference: "The Things Network, Fair Use Policy; Semtech, SX1276/77/78/79 datasheet and application note AN1200.13 (LoRa Modem Designer's Guide)" },
    action: {
      fr: 'Espacer les messages (intervalle de mesure du capteur) ou améliorer la couverture radio pour un facteur d’étalement plus bas : la pile dure plus longtemps et le réseau partagé respire.',
      en: 'Report less often (the sensor’s interval) or improve radio coverage for a lower spreading factor: the battery lasts longer and the shared network breathes.',
    },
    clearAfterMs: 0,
  };
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, rulesFor, siteName }, to) => {
      const window = during(to - DAY, to);
      const [uplinks, ...probes] = await Promise.all([
        query(select({ select: fields('sf', 'bandwidth_hz', 'size_bytes', 'airtime_ms'), from: UPLINK.measurement, where: window, groupBy: ['tenant', 'site', 'dev_eui', 'device'] })),
        ...ROLE_PROBES.map(({ q, roles }) =>
          query(select({ select: [{ fn: 'count', field: q.field }], from: q.measurement, where: [...window, { tag: 'role', in: roles }], groupBy: ['dev_eui', 'role'] })),
        ),
      ]);
      const roleOf = new Map<string, string>();
      for (const series of probes) for (const s of series) if (s.tags?.dev_eui && s.tags.role) roleOf.set(s.tags.dev_eui, s.tags.role);

      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(uplinks)) {
        const p = paramsFor(rulesFor, 'P1', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p || rows.length === 0) continue;
        let airtimeMs = 0;
        let bytes = 0;
        const sfs = new Map<number, number>();
        for (const r of rows) {
          const sf = Number(r.sf);
          const size = Number(r.size_bytes);
          const bw = Number(r.bandwidth_hz) || 125_000;
          // Computed from the radio settings; the stored value only when they are missing.
          const one = Number.isFinite(sf) && sf >= 5 && Number.isFinite(size) ? loraAirtimeMs(size, sf, bw) : Number(r.airtime_ms) || 0;
          airtimeMs += one;
          bytes += Number.isFinite(size) ? size : 0;
          if (Number.isFinite(sf)) sfs.set(sf, (sfs.get(sf) ?? 0) + 1);
        }
        const n = rows.length;
        const seconds = round1(airtimeMs / 1000);
        const perUplinkMs = Math.round(airtimeMs / n);
        const sf = [...sfs.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
        const role = roleOf.get(tags.dev_eui ?? '') ?? '';
        const neededMin = NEEDED_INTERVAL_MIN[role];
        const neededPerDay = neededMin ? Math.round(1440 / neededMin) : undefined;
        const maxUplinks = neededPerDay !== undefined ? Math.round(neededPerDay * p.factor) : undefined;
        const tooMuchAir = seconds > p.maxAirtimeSecondsPerDay;
        const tooOften = maxUplinks !== undefined && n > maxUplinks;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const meanBytes = Math.round(bytes / n);
        const parts = {
          fr: [
            ...(tooMuchAir || !tooOften
              ? [`${formatNumber.fr(seconds)} s d'antenne sur 24 h (${n} messages de ${meanBytes} octets${sf ? ` en SF${sf}` : ''}, ${perUplinkMs} ms chacun), budget ${formatNumber.fr(p.maxAirtimeSecondsPerDay)} s/jour`]
              : []),
            ...(tooOften ? [`${n} messages par jour pour un besoin de ${neededPerDay} (${lowerFirst(roleLabel(role, 'fr'))}, un message toutes les ${neededMin} min), plus de ${formatNumber.fr(p.factor)} × le besoin`] : []),
          ].join(' ; '),
          en: [
            ...(tooMuchAir || !tooOften
              ? [`${formatNumber.en(seconds)} s on air over 24 h (${n} uplinks of ${meanBytes} bytes${sf ? ` at SF${sf}` : ''}, ${perUplinkMs} ms each), budget ${formatNumber.en(p.maxAirtimeSecondsPerDay)} s/day`]
              : []),
            ...(tooOften ? [`${n} uplinks a day for a need of ${neededPerDay} (${lowerFirst(roleLabel(role, 'en'))}, one uplink every ${neededMin} min), over ${formatNumber.en(p.factor)} × the need`] : []),
          ].join('; '),
        };
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing: tooMuchAir || tooOften,
          severity: 'info',
          window: { from: new Date(to - DAY), to: new Date(to) },
          thresholds: {
            max_airtime_s_per_day: p.maxAirtimeSecondsPerDay,
            factor: p.factor,
            ...(maxUplinks !== undefined ? { max_uplinks_per_day: maxUplinks, needed_interval_min: neededMin! } : {}),
          },
          measured: { uplinks: n, airtime_s: seconds, airtime_ms_per_uplink: perUplinkMs, mean_size_bytes: meanBytes, ...(sf ? { sf } : {}), ...(role ? { role } : {}) },
          message: {
            fr: `Radio peu sobre pour ${who.fr} : ${parts.fr}.`,
            en: `Radio not parsimonious for ${who.en}: ${parts.en}.`,
          },
        });
      }
      return findings;
    }),
  };
}

export const S1_DEFAULTS = { factor: 3, minSilenceMs: HOUR, lookbackDays: 30 };

/** S1: a device that stopped talking: the rules that need its data are blind. */
export function silentDeviceRule(opts: typeof S1_DEFAULTS = S1_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'S1',
    version: 1,
    category: 'fleet',
    title: { fr: 'Capteur silencieux', en: 'Silent device' },
    source: { text: { fr: "Aucun message depuis plus de 3 fois l'intervalle habituel de l'appareil, comme le déclencheur « hors ligne » de Datacake et l'état « No Data » de Grafana ; le facteur 3 est un réglage par défaut de Veilleur", en: "No uplink for more than 3 × the device's usual interval, as Datacake's offline trigger and Grafana's No Data state do; 3 × is a Veilleur default" }, reference: "Datacake documentation (device offline trigger); Grafana documentation, Alerting (No Data state)" },
    action: { fr: 'Vérifier la pile, la couverture radio et le capteur sur place.', en: 'Check the battery, the radio coverage and the device on site.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      const to = now.getTime();
      const fCnt = (fn: 'first' | 'last' | 'count') =>
        query(select({ select: [{ fn, field: 'f_cnt' }], from: UPLINK.measurement, where: during(to - opts.lookbackDays * DAY, to), groupBy: ['tenant', 'site', 'dev_eui', 'device'] }));
      // The usual interval is the device's own: its uplinks over the look-back window, first to last.
      const [first, last, count] = await Promise.all([fCnt('first'), fCnt('last'), fCnt('count')]);
      const byDevice = (series: InfluxSeries[], devEui: string) => series.find((x) => x.tags?.dev_eui === devEui)?.values[0];
      const findings: Finding[] = [];
      for (const { tags: t, rows } of seriesRows(last)) {
        const lastSeen = Number(rows[0]?.time);
        const firstSeen = Number(byDevice(first, t.dev_eui ?? '')?.[0]);
        const n = Number(byDevice(count, t.dev_eui ?? '')?.[1] ?? 0);
        const p = paramsFor(rulesFor, 'S1', opts, t.tenant ?? '', t.site ?? '');
        if (!p || !t.dev_eui || !Number.isFinite(lastSeen) || !Number.isFinite(firstSeen) || n < 3) continue;
        const usual = (lastSeen - firstSeen) / (n - 1);
        const silence = to - lastSeen;
        const limit = Math.max(opts.minSilenceMs, p.factor * usual);
        const subject = deviceSubject(t);
        const who = describeSubject(subject, siteName);
        const hours = (x: number) => Math.round((x / HOUR) * 10) / 10;
        const usualMin = Math.round(usual / 60_000);
        findings.push({
          rule: info,
          subject,
          at: now,
          firing: silence > limit,
          severity: 'warning',
          window: { from: new Date(lastSeen), to: now },
          thresholds: { factor: p.factor, limit_h: hours(limit) },
          measured: { last_seen: new Date(lastSeen).toISOString(), silent_h: hours(silence), usual_interval_min: usualMin },
          message: {
            fr: `${upperFirst(who.fr)} n'a rien envoyé depuis le ${formatTime.fr(new Date(lastSeen))} (${formatNumber.fr(hours(silence))} h ; habituellement toutes les ${usualMin} min).`,
            en: `${upperFirst(who.en)} has sent nothing since ${formatTime.en(new Date(lastSeen))} (${formatNumber.en(hours(silence))} h; usually every ${usualMin} min).`,
          },
        });
      }
      return findings;
    },
  };
}

/** The rules on the devices themselves, in the order they run. */
export const FLEET_RULES = [
  defineRule({
    id: 'S1',
    kind: 'windowed',
    defaults: S1_DEFAULTS,
    siteParameters: { factor: num(1.5, 50, 'factor (× usual interval)') },
    description: (d) => ({
      fr: `Capteur silencieux depuis plus de ${formatNumber.fr(d.factor)} × son intervalle habituel.`,
      en: `Device silent for more than ${formatNumber.en(d.factor)} × its usual interval.`,
    }),
    reads: 'every device',
    // Silence: the times of the uplinks, no value to draw.
    evidence: null,
    create: silentDeviceRule,
  }),
  defineRule({
    id: 'P1',
    kind: 'windowed',
    defaults: P1_DEFAULTS,
    siteParameters: { maxAirtimeSecondsPerDay: num(1, 86_400, 'maxAirtimeSecondsPerDay (s)'), factor: num(1, 1000, 'factor (× needed uplinks)') },
    description: (d) => ({
      fr: `Radio peu sobre : plus de ${formatNumber.fr(d.maxAirtimeSecondsPerDay)} s d'antenne par jour (calculées du SF, de la bande et de la taille de chaque message), ou plus de ${formatNumber.fr(d.factor)} × les messages dont le rôle a besoin (pièce 10 min, entrée serveur 5 min, extérieur 30 min, compteurs 15 min, détecteur de fuite 60 min).`,
      en: `Radio not parsimonious: over ${formatNumber.en(d.maxAirtimeSecondsPerDay)} s on air a day (computed from each uplink’s SF, bandwidth and size), or over ${formatNumber.en(d.factor)} × the uplinks its role needs (room 10 min, server inlet 5 min, outdoor 30 min, meters 15 min, leak sensor 60 min).`,
    }),
    reads: 'every device',
    // Uplink counts and airtime, in the rule's figures: no reading to draw.
    evidence: null,
    create: parsimonyRule,
  }),
] as const;
