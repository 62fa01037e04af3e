/**
 * Rules over a window of stored data, evaluated on a schedule with InfluxQL against InfluxDB (so they work after
 * a restart, and can be run over history: `now` is a parameter). Each query names its window with absolute times,
 * never now(). Defaults in settings.ts, each rule citing its source, overridable per site:
 * - W1 continuous flow: no hour without water in the last 24 h, the smallest hourly volume ≥ 10 L;
 * - E4 base load: a building's median night consumption (00–05 h local) above 50 % of its median occupied-hour one;
 * - D2 over-cooling: a server room's mean inlet temperature over 24 h below 22 °C: raise the set point;
 * - S1 silent device: no uplink for more than 3 × its usual interval.
 * The other rules of the catalogue live in rules/ (water, energy, datacenter, fleet).
 * A rule that groups data by period judges complete periods only (W1 whole hours, E4 whole local days): the period
 * under way would weigh as a small one, and the verdict would depend on the minute the rule runs at.
 */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import { seriesRows, type InfluxSeries } from '../storage/influx.ts';
import { UPLINK } from '../storage/schema.ts';
import { isOccupied, localDayBounds, localTime, type SiteCalendar } from './calendar.ts';
import { describeSubject, formatNumber, formatTime, upperFirst, type Finding, type RuleInfo, type SiteNames, type Subject } from './model.ts';
import { DAY, deviceSubject, formatDate, HOUR, median, memoByPeriod, ms, shiftDate } from './rules/common.ts';
import { humidityRule, pueDriftRule } from './rules/datacenter.ts';
import { coolingBelow26Rule, degreeDayDriftRule, heatedUnoccupiedRule, overheatingOccupiedRule } from './rules/energy.ts';
import { parsimonyRule } from './rules/fleet.ts';
import { districtBalanceRule, leakSensorSilentRule, nightFlowRule, stoppedMeterRule } from './rules/water.ts';
import { paramsFor, RULE_DEFAULTS, type RuleParams, type RulesLookup } from './settings.ts';

export type Query = (influxql: string) => Promise<InfluxSeries[]>;

export interface WindowContext {
  now: Date;
  query: Query;
  calendarFor(tenant: string, site: string): SiteCalendar;
  /** Per-site rule settings (thresholds, `enabled: false`) from the configuration; absent: defaults everywhere. */
  rulesFor?: RulesLookup | undefined;
  /** Display names of the sites for the messages (registry/names.ts `displayNames(file).site`); absent: identifiers. */
  siteName?: SiteNames | undefined;
}

export interface WindowedRule {
  info: RuleInfo;
  evaluate(ctx: WindowContext): Promise<Finding[]>;
}

const WATER = QUANTITIES['metering.water.total'];

/**
 * W1: water flowing every hour for 24 h — a running toilet, a leaking valve after the meter. Not for network
 * meters (role district-inflow), through which water always flows.
 */
export function continuousFlowRule(opts: RuleParams<'W1'> = RULE_DEFAULTS.W1): WindowedRule {
  const info: RuleInfo = {
    id: 'W1',
    version: 1,
    category: 'water',
    title: { fr: 'Débit continu : fuite probable', en: 'Continuous flow: probable leak' },
    source: { text: { fr: "Code d'information LEAK de Kamstrup : alarme quand le compteur n'a pas connu une heure entière sans débit au cours des dernières 24 h, levée après une heure à zéro (10 L/h pour une entrée à impulsions de 10 L) ; Sensus iPERL : débit continu pendant 24 h", en: "Kamstrup LEAK info code: alarm when the meter has not seen one continuous hour without flow in the last 24 h, cleared after an hour at zero (10 L/h for a 10 L pulse input); Sensus iPERL: continuous flow over 24 h" }, reference: "Kamstrup, MULTICAL® 21 Technical Description (info code LEAK) and MULTICAL® 602 Technical Description §6.14.3; Sensus, iPERL User Manual §1.3.4" },
    action: { fr: 'Chercher la fuite après compteur (chasses d’eau, robinets, vannes) ; relever l’index la nuit pour confirmer.', en: 'Look for the leak after the meter (toilets, taps, valves); read the index at night to confirm.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      // Complete hours only: the hour under way holds part of an hour's water and would read as the smallest
      // hour, so the verdict would depend on the minute the rule runs at.
      const to = Math.floor(now.getTime() / HOUR) * HOUR;
      const from = to - (opts.windowHours + 1) * HOUR;
      const series = await query(
        `SELECT non_negative_difference(last("${WATER.field}")) AS litres FROM "${WATER.measurement}" WHERE time >= ${ms(from)} AND time < ${ms(to)} AND "channel" = '' AND "role" != '${ROLES.districtInflow}' GROUP BY time(1h), "tenant", "site", "building", "zone", "dev_eui", "device" fill(none)`,
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'W1', opts, tags.tenant ?? '', tags.site ?? '');
        // InfluxDB 1.x also differences the hour before the range: only the hours of the window count.
        const hourly = rows.filter((r) => Number(r.time) >= to - opts.windowHours * HOUR).map((r) => r.litres).filter((v): v is number => typeof v === 'number');
        if (!p || hourly.length < p.minHoursWithData) continue;
        const min = Math.min(...hourly);
        const zeroHours = hourly.filter((v) => v === 0).length;
        const firing = zeroHours === 0 && min >= p.minLitresPerHour;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        // The hours actually measured: a meter silent for 4 of the 24 hours has not shown 24 h of flow.
        const span =
          hourly.length >= opts.windowHours
            ? { fr: `depuis ${opts.windowHours} h`, en: `for ${opts.windowHours} h` }
            : { fr: `sur ${hourly.length} h mesurées des ${opts.windowHours} dernières heures`, en: `over ${hourly.length} measured hours of the last ${opts.windowHours}` };
        findings.push({
          rule: info,
          subject,
          at: now,
          firing,
          // Hysteresis, as the meters do it: the alert opens at the threshold but clears only after an hour at
          // zero, so a leak whose smallest hour dips under the threshold (meter resolution) does not flap.
          pending: !firing && zeroHours === 0,
          severity: 'major',
          window: { from: new Date(to - opts.windowHours * HOUR), to: new Date(to) },
          thresholds: { min_l_per_h: p.minLitresPerHour, window_h: opts.windowHours },
          measured: { hours: hourly.length, zero_hours: zeroHours, min_l_per_h: min, mean_l_per_h: Math.round(hourly.reduce((a, b) => a + b, 0) / hourly.length) },
          message: {
            fr: `Débit jamais nul ${span.fr} : ${who.fr}, minimum horaire ${formatNumber.fr(min)} L/h ; fuite probable après compteur.`,
            en: `Flow never zero ${span.en}: ${who.en}, smallest hourly volume ${formatNumber.en(min)} L/h; probable leak after the meter.`,
          },
        });
      }
      return findings;
    },
  };
}

const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];

/** E4: a building that keeps consuming at night: forgotten loads, ventilation, heating without set-back. */
export function baseLoadRule(opts: RuleParams<'E4'> = RULE_DEFAULTS.E4): WindowedRule {
  const info: RuleInfo = {
    id: 'E4',
    version: 1,
    category: 'energy',
    title: { fr: 'Consommation de nuit élevée', en: 'High night-time consumption' },
    source: { text: { fr: "Plan de sobriété énergétique : couper la ventilation et les équipements quand les bâtiments sont inoccupés. Le rapport de 50 % entre la nuit et les heures d'occupation est un réglage par défaut de Veilleur, pas une limite légale", en: "Plan de sobriété énergétique: turn ventilation and equipment off when buildings are unoccupied. The 50 % night/occupied ratio is a Veilleur default, not a legal limit" }, reference: "Plan de sobriété énergétique (Gouvernement, 6 octobre 2022)" },
    action: { fr: 'Vérifier ce qui reste allumé la nuit : ventilation, chauffage sans réduit, éclairage, équipements en veille.', en: 'Check what stays on at night: ventilation, heating without set-back, lighting, standby equipment.' },
    clearAfterMs: 0,
  };
  return {
    info,
    // Whole local days: medians over complete days do not move with the hour (or minute) the rule runs at.
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      // A day more than the period either side, whatever the sites' time zones; each site's days are cut below.
      const from = to - (opts.days + 2) * DAY;
      const series = await query(
        `SELECT non_negative_difference(last("${ENERGY.field}")) AS wh FROM "${ENERGY.measurement}" WHERE time >= ${ms(from)} AND time < ${ms(to)} AND "channel" = '' AND "role" = '${opts.role}' GROUP BY time(1h), "tenant", "site", "building", "dev_eui", "device" fill(none)`,
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'E4', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p) continue;
        const cal = calendarFor(tags.tenant ?? '', tags.site ?? '');
        const today = localTime(new Date(to), cal.timeZone).date;
        const periodEnd = localDayBounds(today, cal.timeZone).start.getTime();
        const periodStart = localDayBounds(shiftDate(today, -opts.days), cal.timeZone).start.getTime();
        const night: number[] = [];
        const occupiedHours: number[] = [];
        for (const r of rows) {
          if (typeof r.wh !== 'number' || typeof r.time !== 'number' || r.time < periodStart || r.time >= periodEnd) continue;
          const start = new Date(r.time);
          const hour = localTime(start, cal.timeZone).hour;
          if (hour >= opts.nightFrom && hour < opts.nightTo) night.push(r.wh);
          else if (isOccupied(start, cal)) occupiedHours.push(r.wh);
        }
        // At least two nights and a day and a half of occupied hours, or the medians mean little.
        if (night.length < 2 * (opts.nightTo - opts.nightFrom) || occupiedHours.length < 10) continue;
        const nightMedian = median(night) / 1000;
        const occMedian = median(occupiedHours) / 1000;
        const ratio = occMedian > 0 ? nightMedian / occMedian : 0;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const pct = Math.round(ratio * 100);
        const first = formatDate(shiftDate(today, -opts.days));
        const last = formatDate(shiftDate(today, -1));
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing: occMedian > 0 && ratio > p.ratio,
          severity: 'warning',
          window: { from: new Date(periodStart), to: new Date(periodEnd) },
          thresholds: { max_ratio: p.ratio, night: `${opts.nightFrom}:00-${opts.nightTo}:00`, days: opts.days },
          measured: { night_median_kwh_per_h: +nightMedian.toFixed(2), occupied_median_kwh_per_h: +occMedian.toFixed(2), ratio: +ratio.toFixed(2) },
          message: {
            fr: `Consommation de nuit élevée : ${who.fr}, médiane ${formatNumber.fr(nightMedian)} kWh/h entre ${opts.nightFrom} h et ${opts.nightTo} h, soit ${pct} % de celle des heures d'occupation (${formatNumber.fr(occMedian)} kWh/h), du ${first.fr} au ${last.fr}.`,
            en: `High night consumption: ${who.en}, median ${formatNumber.en(nightMedian)} kWh/h between ${opts.nightFrom}:00 and ${opts.nightTo}:00, ${pct} % of the occupied-hours median (${formatNumber.en(occMedian)} kWh/h), from ${first.en} to ${last.en}.`,
          },
        });
      }
      return findings;
    }),
  };
}

const AIR_T = QUANTITIES['air.temperature'];

/** D2: a server room kept colder than it needs: every degree of set point is cooling energy. */
export function overCoolingRule(opts: RuleParams<'D2'> = RULE_DEFAULTS.D2): WindowedRule {
  const info: RuleInfo = {
    id: 'D2',
    version: 1,
    category: 'datacenter',
    title: { fr: 'Salle serveur trop refroidie', en: 'Server room over-cooled' },
    source: { text: { fr: "Revoir et relever les consignes de température à l'entrée d'air des équipements informatiques ; l'ASHRAE recommande jusqu'à 27 °C à cette entrée. Le seuil de 22 °C est un réglage par défaut de Veilleur", en: "Review and raise the IT intake set points; ASHRAE recommends up to 27 °C at the IT inlet. 22 °C is a Veilleur default" }, reference: "European Commission (JRC), EU Code of Conduct on Data Centre Energy Efficiency, Best Practice Guidelines, 2024 edition; ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments" },
    action: { fr: 'Relever progressivement la consigne de climatisation (par pas de 1 °C) en surveillant les températures d’entrée.', en: 'Raise the cooling set point gradually (1 °C steps) while watching inlet temperatures.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      const to = now.getTime();
      const from = to - opts.windowHours * HOUR;
      const series = await query(
        `SELECT mean("${AIR_T.field}") AS mean_c, count("${AIR_T.field}") AS n, min("${AIR_T.field}") AS min_c, max("${AIR_T.field}") AS max_c FROM "${AIR_T.measurement}" WHERE time >= ${ms(from)} AND time < ${ms(to)} AND "role" = '${ROLES.itInlet}' GROUP BY "tenant", "site", "building", "zone"`,
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const r = rows[0];
        const p = paramsFor(rulesFor, 'D2', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p || !r || typeof r.mean_c !== 'number' || Number(r.n) < opts.minReadings) continue;
        const subject: Subject = { tenant: tags.tenant ?? '', site: tags.site ?? '', ...(tags.building ? { building: tags.building } : {}), ...(tags.zone ? { zone: tags.zone } : {}) };
        const who = describeSubject(subject, siteName);
        const mean = Math.round(r.mean_c * 10) / 10;
        findings.push({
          rule: info,
          subject,
          at: now,
          firing: mean < p.belowC,
          severity: 'warning',
          window: { from: new Date(from), to: now },
          thresholds: { below_c: p.belowC, window_h: opts.windowHours },
          measured: { mean_inlet_c: mean, min_inlet_c: Number(r.min_c), max_inlet_c: Number(r.max_c), readings: Number(r.n) },
          message: {
            fr: `Salle serveur trop refroidie (${who.fr}) : entrée d'air à ${formatNumber.fr(mean)} °C en moyenne sur ${opts.windowHours} h, sous ${formatNumber.fr(p.belowC)} °C : relever la consigne de climatisation.`,
            en: `Server room over-cooled (${who.en}): inlet air at ${formatNumber.en(mean)} °C on average over ${opts.windowHours} h, below ${formatNumber.en(p.belowC)} °C: raise the cooling set point.`,
          },
        });
      }
      return findings;
    },
  };
}

/** S1: a device that stopped talking: the rules that need its data are blind. */
export function silentDeviceRule(opts: RuleParams<'S1'> = RULE_DEFAULTS.S1): WindowedRule {
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
      const where = `FROM "${UPLINK.measurement}" WHERE time >= ${ms(to - opts.lookbackDays * DAY)} AND time < ${ms(to)} GROUP BY "tenant", "site", "dev_eui", "device"`;
      // The usual interval is the device's own: its uplinks over the look-back window, first to last.
      const [first, last, count] = await Promise.all([query(`SELECT first("f_cnt") ${where}`), query(`SELECT last("f_cnt") ${where}`), query(`SELECT count("f_cnt") ${where}`)]);
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

/** Every windowed rule with its default thresholds (a new set each call: the daily rules keep a memo). */
export function defaultWindowedRules(): WindowedRule[] {
  return [
    continuousFlowRule(),
    nightFlowRule(),
    stoppedMeterRule(),
    leakSensorSilentRule(),
    districtBalanceRule(),
    overheatingOccupiedRule(),
    heatedUnoccupiedRule(),
    coolingBelow26Rule(),
    baseLoadRule(),
    degreeDayDriftRule(),
    overCoolingRule(),
    humidityRule(),
    pueDriftRule(),
    silentDeviceRule(),
    parsimonyRule(),
  ];
}
