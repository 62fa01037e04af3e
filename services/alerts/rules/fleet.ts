/**
 * P1 radio parsimony (a sobriety rule for the fleet itself): a device that spends more than 30 s a day on air (the
 * fair-use budget of The Things Network's community network, a sensible bound on any shared public network) or
 * that reports far more often than the rules reading its data need. Each uplink's time on air is computed from
 * its spreading factor, bandwidth and payload size as stored in `uplink` (services/radio/airtime.ts), so it can be
 * checked by hand with any LoRa airtime calculator.
 */
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { loraAirtimeMs } from '../../radio/airtime.ts';
import { roleLabel } from '../../registry/names.ts';
import { seriesRows } from '../../storage/influx.ts';
import { UPLINK } from '../../storage/schema.ts';
import { describeSubject, formatNumber, type Finding, type RuleInfo } from '../model.ts';
import { paramsFor, RULE_DEFAULTS, type RuleParams } from '../settings.ts';
import type { WindowedRule } from '../windowed-rules.ts';
import { DAY, deviceSubject, HOUR, memoByPeriod, ms, round1 } from './common.ts';

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

export function parsimonyRule(opts: RuleParams<'P1'> = RULE_DEFAULTS.P1): WindowedRule {
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
      const window = `time >= ${ms(to - DAY)} AND time < ${ms(to)}`;
      const [uplinks, ...probes] = await Promise.all([
        query(`SELECT "sf", "bandwidth_hz", "size_bytes", "airtime_ms" FROM "${UPLINK.measurement}" WHERE ${window} GROUP BY "tenant", "site", "dev_eui", "device"`),
        ...ROLE_PROBES.map(({ q, roles }) =>
          query(`SELECT count("${q.field}") FROM "${q.measurement}" WHERE ${window} AND (${roles.map((r) => `"role" = '${r}'`).join(' OR ')}) GROUP BY "dev_eui", "role"`),
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
