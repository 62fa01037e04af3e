/**
 * Building rules over the site's occupancy calendar: energy (Code de l'énergie R241-26, R241-27, R241-30; décret
 * tertiaire) and indoor air, on room sensors (role `room`), the calendar and the site's outdoor sensor (role `outdoor`):
 * - E1 over 19 °C when occupied: the mean of the building's rooms over the occupied hours of the last 24 h above
 *   19.5 °C (R241-26 sets 19 °C as a mean over the rooms; +0.5 °C absorbs sensor tolerance), in the heating season;
 * - E2 heated while unoccupied: the mean over an unoccupied stretch of 24–48 h above 16 °C, of ≥ 48 h above 8 °C
 *   (R241-27), in the heating season;
 * - E3 cooling at or below 26 °C: a cooling meter drawing power while the rooms it serves are at ≤ 26 °C for more
 *   than 30 min (R241-30); server rooms and configured devices are exempt;
 * - E4 night base load: a building's median night consumption (00–05 h local) above 50 % of its median
 *   occupied-hour one, over whole local days;
 * - E5 degree-day drift: kWh per heating degree-day (DJU, base 18 °C) of last month against the same month a year
 *   before, more than 10 % up;
 * - A2 confinement index: a room's ICONE (CSTB; arrêté du 1er juin 2016, art. 11) over the occupied hours of its last
 *   complete occupied day at 3 or more ("confinement élevé"), critical at 5.
 *
 * Heating season: 1 October to 20 May by default, the conventional season of French heating degree-day statistics
 * (232 days; COSTIC, Météo-France DJU tables) [S]. Sites set their own (`season: '10-15..05-05'`: the 2022 plan de
 * sobriété shifted the season by 15 days). Outside it, E1 and E2 never fire: a building above 19 °C in June is
 * not being heated.
 */
import { z } from 'zod';
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { seriesRows } from '../../storage/influx.ts';
import { during, select } from '../../storage/influxql.ts';
import { isOccupied, localDayBounds, localTime, unoccupiedStretches, type Interval, type SiteCalendar } from '../../time/calendar.ts';
import { dailyDegreeDays, degreeDaysOver, DJU_BASE_C } from '../../time/degree-days.ts';
import { describeSubject, formatNumber, formatNumber2, formatTime, plural, type Finding, type RuleInfo, type Subject, type Text } from '../model.ts';
import { celsius, defineRule, inSeason, int, num, paramsFor, season, type WindowedRule } from './define.ts';
import { consumption, DAY, describePlace, deviceSubject, fixed, formatDate, HOUR, mean, median, memoByPeriod, MIN, monthName, points, round1, round2, shiftDate } from './common.ts';

const AIR_T = QUANTITIES['air.temperature'];
const ELEC = QUANTITIES['metering.electricity.activeEnergy'];
const HEAT = QUANTITIES['metering.heat.total'];
const Q = 15 * MIN;

const buildingKey = (t: Record<string, string>) => `${t.tenant ?? ''}\u0000${t.site ?? ''}\u0000${t.building ?? ''}`;
const buildingSubject = (t: Record<string, string>): Subject => ({ tenant: t.tenant ?? '', site: t.site ?? '', ...(t.building ? { building: t.building } : {}) });

/** Room series grouped by building. */
function byBuilding<T extends { tags: Record<string, string> }>(series: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const s of series) {
    const k = buildingKey(s.tags);
    out.set(k, [...(out.get(k) ?? []), s]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// E1 over 19 °C in occupied hours

export const E1_DEFAULTS = { maxMeanC: 19.5, season: '10-01..05-20', windowHours: 24, minOccupiedHours: 4, role: ROLES.room as string };

export function overheatingOccupiedRule(opts: typeof E1_DEFAULTS = E1_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'E1',
    version: 1,
    category: 'energy',
    title: { fr: 'Chauffage au-dessus de 19 °C', en: 'Heating above 19 °C' },
    source: { text: { fr: "Chauffage limité à 19 °C en moyenne sur l'ensemble des pièces du bâtiment ; la marge de 0,5 °C pour la tolérance des capteurs est un réglage par défaut de Veilleur", en: "Heating limited to a mean of 19 °C over the building's rooms; the +0.5 °C for sensor tolerance is a Veilleur default" }, reference: "Code de l'énergie, article R241-26" },
    action: { fr: 'Baisser la consigne de chauffage à 19 °C (1 °C de moins ≈ 7 % d’énergie).', en: 'Lower the heating set point to 19 °C (1 °C less ≈ 7 % energy).' },
    clearAfterMs: 0,
  };
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      const from = to - opts.windowHours * HOUR;
      const series = await query(
        select({ select: [{ field: AIR_T.field, as: 'c' }], from: AIR_T.measurement, where: [...during(from, to), { tag: 'role', equals: opts.role }], groupBy: ['tenant', 'site', 'building', 'dev_eui', 'device'] }),
      );
      const findings: Finding[] = [];
      for (const rooms of byBuilding(seriesRows(series)).values()) {
        const tags = rooms[0]!.tags;
        const p = paramsFor(rulesFor, 'E1', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p) continue;
        const cal = calendarFor(tags.tenant ?? '', tags.site ?? '');
        const slots = new Set<number>();
        const roomMeans: { name: string; c: number }[] = [];
        for (const room of rooms) {
          const occupied = points(room.rows, 'c').filter((x) => isOccupied(new Date(x.t), cal));
          for (const x of occupied) slots.add(Math.floor(x.t / Q));
          if (occupied.length >= 3) roomMeans.push({ name: room.tags.device ?? room.tags.dev_eui ?? '', c: mean(occupied.map((x) => x.v)) });
        }
        const hours = slots.size / 4;
        if (roomMeans.length === 0 || hours < opts.minOccupiedHours) continue;
        const meanC = round1(mean(roomMeans.map((r) => r.c)));
        const warmest = roomMeans.reduce((a, b) => (b.c > a.c ? b : a));
        const season = inSeason(localTime(new Date(to), cal.timeZone).date, p.season);
        const subject = buildingSubject(tags);
        const where = describePlace(subject, siteName);
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing: season && meanC > p.maxMeanC,
          severity: 'warning',
          window: { from: new Date(from), to: new Date(to) },
          thresholds: { max_mean_c: p.maxMeanC, legal_mean_c: 19, season: p.season },
          measured: { mean_c: meanC, rooms: roomMeans.length, occupied_h: hours, warmest_room: warmest.name, warmest_room_c: round1(warmest.c), heating_season: season ? 'yes' : 'no' },
          message: {
            fr: `Chauffage au-dessus de 19 °C au ${where.fr} : ${formatNumber.fr(meanC)} °C en moyenne sur ${plural.fr(roomMeans.length, 'pièce', 'pièces')} pendant ${formatNumber.fr(hours)} h d'occupation (dernières ${opts.windowHours} h ; la plus chaude, ${warmest.name}, à ${formatNumber.fr(round1(warmest.c))} °C), seuil ${formatNumber.fr(p.maxMeanC)} °C (R241-26 : 19 °C en moyenne) : baisser la consigne.`,
            en: `Heating above 19 °C in ${where.en}: ${formatNumber.en(meanC)} °C on average over ${plural.en(roomMeans.length, 'room', 'rooms')} during ${formatNumber.en(hours)} occupied hours (last ${opts.windowHours} h; warmest, ${warmest.name}, at ${formatNumber.en(round1(warmest.c))} °C), limit ${formatNumber.en(p.maxMeanC)} °C (R241-26: 19 °C mean): lower the set point.`,
          },
        });
      }
      return findings;
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// E2 heated while unoccupied

export const E2_DEFAULTS = { maxC24to48h: 16, maxC48h: 8, coolDownHours: 4, preheatHours: 2, season: '10-01..05-20', lookbackDays: 7, role: ROLES.room as string };

export function heatedUnoccupiedRule(opts: typeof E2_DEFAULTS = E2_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'E2',
    version: 1,
    category: 'energy',
    title: { fr: 'Bâtiment inoccupé chauffé', en: 'Unoccupied building heated' },
    source: { text: { fr: "Inoccupation de 24 h à moins de 48 h : 16 °C au plus en moyenne ; de 48 h ou plus : 8 °C, la durée étant celle de la fermeture prévue au calendrier du site. Les premières heures (refroidissement) et les dernières (relance avant l'ouverture) sont exclues de la moyenne (réglages par défaut de Veilleur)", en: "Unoccupied for 24 h to less than 48 h: 16 °C at most on average; for 48 h or more: 8 °C, the length being that of the closure planned in the site's calendar. The first hours (cool-down) and the last ones (pre-heat before opening) are left out of the mean (Veilleur defaults)" }, reference: "Code de l'énergie, article R241-27" },
    action: { fr: 'Programmer un réduit de chauffage pendant les fermetures (16 °C de 24 à 48 h, 8 °C au-delà).', en: 'Program a heating set-back during closures (16 °C for 24–48 h, 8 °C beyond).' },
    clearAfterMs: 0,
  };
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      const from = to - opts.lookbackDays * DAY;
      const series = await query(
        select({
          select: [{ fn: 'mean', field: AIR_T.field, as: 'c' }],
          from: AIR_T.measurement,
          where: [...during(from, to), { tag: 'role', equals: opts.role }],
          interval: '15m',
          groupBy: ['tenant', 'site', 'building', 'dev_eui', 'device'],
          fill: 'none',
        }),
      );
      const findings: Finding[] = [];
      for (const rooms of byBuilding(seriesRows(series)).values()) {
        const tags = rooms[0]!.tags;
        const p = paramsFor(rulesFor, 'E2', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p) continue;
        const cal = calendarFor(tags.tenant ?? '', tags.site ?? '');
        const closure = plannedClosure(from, to, cal);
        if (!closure) continue;
        const start = closure.start.getTime();
        const end = closure.end.getTime();
        const ongoing = end > to;
        // R241-27 sets the limit by the length of the inoccupation, which the calendar knows from its first hour.
        const length = end - start;
        const preheatFrom = end - p.preheatHours * HOUR;
        const spanFrom = Math.max(start + p.coolDownHours * HOUR, from);
        const spanTo = Math.min(preheatFrom, to);
        if (spanTo - spanFrom < HOUR) continue;
        const hoursInSpan = (spanTo - spanFrom) / HOUR;
        const roomMeans = rooms.flatMap((room) => {
          const inSpan = points(room.rows, 'c').filter((x) => x.t + Q / 2 >= spanFrom && x.t + Q / 2 < spanTo);
          // Readings in half of the hours at least (a sensor may report hourly), or a gap would bias the mean.
          const hoursWithData = new Set(inSpan.map((x) => Math.floor(x.t / HOUR))).size;
          return hoursWithData >= hoursInSpan / 2 ? [mean(inSpan.map((x) => x.v))] : [];
        });
        if (roomMeans.length === 0) continue;
        const meanC = round1(mean(roomMeans));
        const long = length >= 2 * DAY;
        const limit = long ? p.maxC48h : p.maxC24to48h;
        const season = inSeason(localTime(new Date(Math.min(end, to) - 1), cal.timeZone).date, p.season);
        const firing = season && meanC > limit;
        const subject = buildingSubject(tags);
        const where = describePlace(subject, siteName);
        const hours = round1(length / HOUR);
        const preheatLeftOut = spanTo === preheatFrom;
        const clipped = spanFrom > start + p.coolDownHours * HOUR;
        const kind = long ? { fr: 'de 48 h ou plus', en: 'of 48 h or more' } : { fr: 'de 24 à 48 h', en: 'of 24 to 48 h' };
        const n = formatNumber;
        const t = formatTime;
        const over = ongoing
          ? { fr: ` depuis le ${t.fr(new Date(spanFrom))}`, en: ` since ${t.en(new Date(spanFrom))}` }
          : clipped
            ? { fr: ` du ${t.fr(new Date(spanFrom))} au ${t.fr(new Date(spanTo))}`, en: ` from ${t.en(new Date(spanFrom))} to ${t.en(new Date(spanTo))}` }
            : { fr: '', en: '' };
        const length_ = ongoing ? { fr: `${n.fr(hours)} h prévues au calendrier, en cours`, en: `${n.en(hours)} h planned in the calendar, ongoing` } : { fr: `${n.fr(hours)} h`, en: `${n.en(hours)} h` };
        const leftOut = preheatLeftOut
          ? { fr: `${n.fr(p.coolDownHours)} h de refroidissement et ${n.fr(p.preheatHours)} h de relance exclues`, en: `${n.en(p.coolDownHours)} h of cool-down and ${n.en(p.preheatHours)} h of pre-heat left out` }
          : { fr: `${n.fr(p.coolDownHours)} h de refroidissement exclues`, en: `${n.en(p.coolDownHours)} h of cool-down left out` };
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing,
          // While the closure goes on, the mean so far may open an alert but not clear one: the closure is judged
          // on its whole length, known when it ends.
          pending: !firing && ongoing && season,
          severity: 'warning',
          window: { from: closure.start, to: ongoing ? new Date(to) : closure.end },
          thresholds: { max_c: limit, max_c_24_48h: p.maxC24to48h, max_c_48h: p.maxC48h, cool_down_h: p.coolDownHours, preheat_h: p.preheatHours, season: p.season },
          measured: {
            mean_c: meanC,
            rooms: roomMeans.length,
            unoccupied_h: hours,
            unoccupied_from: closure.start.toISOString(),
            unoccupied_to: closure.end.toISOString(),
            ongoing: ongoing ? 'yes' : 'no',
            mean_from: new Date(spanFrom).toISOString(),
            mean_to: new Date(spanTo).toISOString(),
            heating_season: season ? 'yes' : 'no',
          },
          message: {
            fr: `${where.fr[0]!.toUpperCase()}${where.fr.slice(1)} chauffé pendant son inoccupation : ${n.fr(meanC)} °C en moyenne sur ${plural.fr(roomMeans.length, 'pièce', 'pièces')}${over.fr}, inoccupé du ${t.fr(closure.start)} au ${t.fr(closure.end)} (${length_.fr} ; ${leftOut.fr}), limite ${n.fr(limit)} °C pour une inoccupation ${kind.fr} (R241-27) : programmer le réduit.`,
            en: `${where.en[0]!.toUpperCase()}${where.en.slice(1)} heated while unoccupied: ${n.en(meanC)} °C on average over ${plural.en(roomMeans.length, 'room', 'rooms')}${over.en}, unoccupied from ${t.en(closure.start)} to ${t.en(closure.end)} (${length_.en}; ${leftOut.en}), limit ${n.en(limit)} °C for a closure ${kind.en} (R241-27): program the set-back.`,
          },
        });
      }
      return findings;
    }),
  };
}

/** How far the calendar is read either side of the evaluation to find a closure's planned bounds. */
const CLOSURE_HORIZON = 62 * DAY;

/**
 * The latest closure (an unoccupied stretch of 24 h or more) that has begun by `to` and had not ended by `from`,
 * with its bounds as planned in the site's calendar: a closure still going on is known to its end (the reopening),
 * so its length and limit do not depend on how much of it has elapsed. Closures over two months are cut there.
 */
export function plannedClosure(from: number, to: number, cal: SiteCalendar): Interval | undefined {
  const stretches = unoccupiedStretches(new Date(from - CLOSURE_HORIZON), new Date(to + CLOSURE_HORIZON), cal);
  return stretches.filter((s) => s.start.getTime() < to && s.end.getTime() > from && s.end.getTime() - s.start.getTime() >= DAY).at(-1);
}

// ---------------------------------------------------------------------------------------------------------
// E3 cooling at or below 26 °C

export const E3_DEFAULTS = { maxIndoorC: 26, minMinutes: 30, minCoolingW: 100, exemptDevices: [] as string[], lookbackHours: 3 };

export function coolingBelow26Rule(opts: typeof E3_DEFAULTS = E3_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'E3',
    version: 1,
    category: 'energy',
    title: { fr: 'Climatisation sous 26 °C', en: 'Cooling below 26 °C' },
    source: { text: { fr: "La climatisation n'est mise ou maintenue en marche que lorsque la température intérieure dépasse 26 °C. Les salles serveurs (zones équipées de compteurs informatiques ou de sondes d'entrée d'air) et les appareils exemptés dans la configuration (soins, crèches) ne sont pas concernés", en: "Cooling may be turned on or kept on only when the indoor temperature exceeds 26 °C. Server rooms (zones with IT meters or inlet sensors) and configured devices (care, crèches) are exempt" }, reference: "Code de l'énergie, article R241-30" },
    action: { fr: 'Arrêter la climatisation ou relever sa consigne au-dessus de 26 °C.', en: 'Turn the cooling off or raise its set point above 26 °C.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      // Complete quarter-hours only.
      const to = Math.floor(now.getTime() / Q) * Q;
      const from = to - opts.lookbackHours * HOUR;
      const window = during(from - Q, to);
      const quarterHours = { interval: '15m', fill: 'none' } as const;
      const coolingSeries = await query(
        select({
          select: [{ fn: 'last', field: ELEC.field, as: 'v' }],
          from: ELEC.measurement,
          where: [...window, { tag: 'channel', equals: '' }, { tag: 'role', equals: ROLES.cooling }],
          groupBy: ['tenant', 'site', 'building', 'zone', 'dev_eui', 'device'],
          ...quarterHours,
        }),
      );
      if (coolingSeries.length === 0) return [];
      const itWindow = during(to - 7 * DAY, to);
      const byZone = ['tenant', 'site', 'zone'];
      const [rooms, inlets, itMeters] = await Promise.all([
        query(select({ select: [{ fn: 'mean', field: AIR_T.field, as: 'c' }], from: AIR_T.measurement, where: [...window, { tag: 'role', equals: ROLES.room }], groupBy: ['tenant', 'site', 'building', 'zone'], ...quarterHours })),
        query(select({ select: [{ fn: 'count', field: AIR_T.field }], from: AIR_T.measurement, where: [...itWindow, { tag: 'role', equals: ROLES.itInlet }], groupBy: byZone })),
        query(select({ select: [{ fn: 'count', field: ELEC.field }], from: ELEC.measurement, where: [...itWindow, { tag: 'role', in: [ROLES.itLoad, ROLES.facilityTotal] }], groupBy: byZone })),
      ]);
      const zoneKey = (t: Record<string, string> | undefined) => `${t?.tenant ?? ''}\u0000${t?.site ?? ''}\u0000${t?.zone ?? ''}`;
      const itZones = new Set([...inlets, ...itMeters].filter((s) => s.tags?.zone).map((s) => zoneKey(s.tags)));
      const roomRows = seriesRows(rooms);

      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(coolingSeries)) {
        const p = paramsFor(rulesFor, 'E3', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p || p.exemptDevices.includes(tags.device ?? '') || p.exemptDevices.includes(tags.dev_eui ?? '')) continue;
        if (tags.zone && itZones.has(zoneKey(tags))) continue;
        // The rooms it serves: its zone when rooms are there, else its building.
        const sameZone = roomRows.filter((r) => tags.zone && zoneKey(r.tags) === zoneKey(tags));
        const served = sameZone.length > 0 ? sameZone : roomRows.filter((r) => buildingKey(r.tags) === buildingKey(tags));
        if (served.length === 0) continue;
        const indoor = new Map<number, number[]>();
        for (const r of served) for (const x of points(r.rows, 'c')) indoor.set(x.t, [...(indoor.get(x.t) ?? []), x.v]);
        // Power of each quarter-hour from the index: the energy between two readings spread over the quarters it covers.
        const power = new Map<number, number>();
        const idx = points(rows, 'v');
        for (let i = 1; i < idx.length; i++) {
          const a = idx[i - 1]!;
          const b = idx[i]!;
          if (b.v < a.v) continue;
          const w = (b.v - a.v) / ((b.t - a.t) / HOUR);
          for (let t = a.t; t < b.t; t += Q) power.set(t, w);
        }
        // The latest quarter with both values, then back while cooling runs at ≤ the limit.
        let t = to - Q;
        while (t >= from && !(power.has(t) && indoor.has(t))) t -= Q;
        if (t < to - 3 * Q) continue; // nothing in the last 45 min: neither fires nor clears
        const latest = t;
        const run: { w: number; c: number }[] = [];
        for (; t >= from; t -= Q) {
          const w = power.get(t);
          const c = indoor.has(t) ? mean(indoor.get(t)!) : undefined;
          if (w === undefined || c === undefined || w < p.minCoolingW || c > p.maxIndoorC) break;
          run.push({ w, c });
        }
        const minutes = run.length * 15;
        const subject: Subject = {
          tenant: tags.tenant ?? '',
          site: tags.site ?? '',
          ...(tags.building ? { building: tags.building } : {}),
          ...(tags.zone ? { zone: tags.zone } : {}),
          ...(tags.dev_eui ? { devEui: tags.dev_eui } : {}),
          ...(tags.device ? { device: tags.device } : {}),
        };
        const who = describeSubject(subject, siteName);
        const indoorMean = run.length ? round1(mean(run.map((x) => x.c))) : 0;
        const indoorMax = run.length ? round1(Math.max(...run.map((x) => x.c))) : 0;
        const watts = run.length ? Math.round(mean(run.map((x) => x.w))) : 0;
        findings.push({
          rule: info,
          subject,
          at: now,
          firing: minutes > p.minMinutes,
          pending: run.length > 0 && minutes <= p.minMinutes,
          severity: 'warning',
          window: { from: new Date(t + Q), to: new Date(latest + Q) },
          thresholds: { max_indoor_c: p.maxIndoorC, min_minutes: p.minMinutes, min_cooling_w: p.minCoolingW },
          measured: { running_min: minutes, indoor_mean_c: indoorMean, indoor_max_c: indoorMax, cooling_mean_w: watts, rooms: served.length },
          message: {
            fr: `Climatisation en marche depuis ${minutes} min : ${who.fr}, ${formatNumber.fr(watts)} W en moyenne, alors que les pièces desservies sont à ${formatNumber.fr(indoorMean)} °C en moyenne (au plus ${formatNumber.fr(indoorMax)} °C) : elle n'est permise qu'au-dessus de ${formatNumber.fr(p.maxIndoorC)} °C (R241-30).`,
            en: `Cooling running for ${minutes} min: ${who.en}, ${formatNumber.en(watts)} W on average, while the rooms it serves are at ${formatNumber.en(indoorMean)} °C on average (at most ${formatNumber.en(indoorMax)} °C): it is allowed only above ${formatNumber.en(p.maxIndoorC)} °C (R241-30).`,
          },
        });
      }
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// E5 kWh per degree-day against the same month last year

function shiftMonth(ym: string, months: number): string {
  const y = Number(ym.slice(0, 4));
  const m = Number(ym.slice(5, 7)) - 1 + months;
  const yy = y + Math.floor(m / 12);
  const mm = ((m % 12) + 12) % 12;
  return `${String(yy).padStart(4, '0')}-${String(mm + 1).padStart(2, '0')}`;
}

/** The local dates ('YYYY-MM-DD') of a month. */
function monthDates(ym: string): string[] {
  const last = new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)), 0)).getUTCDate();
  return Array.from({ length: last }, (_, i) => `${ym}-${String(i + 1).padStart(2, '0')}`);
}

/**
 * Heating degree-days of a month from hourly minima and maxima of the site's outdoor sensors, with the days and the
 * coverage rule of the yearly review (services/time/degree-days.ts). The sum is scaled to the whole month; undefined
 * when fewer than `minCoverage` of the days count.
 */
export function degreeDays(rows: Record<string, unknown>[], ym: string, timeZone: string, baseC: number, minCoverage: number): { dju: number; days: number; ofDays: number } | undefined {
  const hours = rows.map((r) => ({ t: Number(r.time), tmin: typeof r.tmin === 'number' ? r.tmin : Number.NaN, tmax: typeof r.tmax === 'number' ? r.tmax : Number.NaN }));
  const { dju, days, ofDays } = degreeDaysOver(dailyDegreeDays(hours, timeZone, baseC), monthDates(ym));
  if (days === 0 || days < minCoverage * ofDays) return undefined;
  return { dju: round1((dju * ofDays) / days), days, ofDays };
}

export const E5_DEFAULTS = { factor: 1.1, baseC: DJU_BASE_C, minDegreeDays: 50, minDayCoverage: 0.9 };

export function degreeDayDriftRule(opts: typeof E5_DEFAULTS = E5_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'E5',
    version: 1,
    category: 'energy',
    title: { fr: 'Consommation par degré-jour en hausse', en: 'Consumption per degree-day rising' },
    source: { text: { fr: "kWh par degré-jour unifié (base 18 °C, (Tmin+Tmax)/2 de chaque jour à la sonde extérieure du site) comparés au même mois de l'année précédente, comme le décret tertiaire corrige les consommations des variations du climat ; le seuil de +10 % est un réglage par défaut de Veilleur", en: "kWh per heating degree-day (base 18 °C, daily (Tmin+Tmax)/2 from the site's outdoor sensor) against the same month a year before, as the décret tertiaire adjusts consumption to the climate; +10 % is a Veilleur default" }, reference: "Décret n° 2019-771 du 23 juillet 2019 (décret tertiaire); arrêté du 10 avril 2020, article 5 (ajustement climatique par les degrés-jours unifiés)" },
    action: {
      fr: 'Comparer les réglages de chauffage avec l’an dernier (consignes, horaires, réduits), vérifier la chaufferie et les usages nouveaux.',
      en: 'Compare the heating settings with last year (set points, schedules, set-backs); check the boiler room and new uses.',
    },
    clearAfterMs: 0,
  };
  return {
    info,
    // A monthly comparison over two months of index readings: read once a day.
    evaluate: memoByPeriod(DAY, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      // The last complete month (complete in every time zone from UTC−14 on), queried in UTC ±2 days; the
      // month's bounds are local per site below.
      const ym = shiftMonth(new Date(to - 14 * HOUR).toISOString().slice(0, 7), -1);
      const range = (m: string) => {
        const start = Date.parse(`${m}-01T00:00:00Z`) - 2 * DAY;
        const end = Date.parse(`${shiftMonth(m, 1)}-01T00:00:00Z`) + 2 * DAY;
        return during(start, Math.min(end, to));
      };
      const wholeMeter = { tag: 'channel', equals: '' } as const;
      const read = (m: string) =>
        Promise.all([
          query(
            select({
              select: [{ fn: 'min', field: AIR_T.field, as: 'tmin' }, { fn: 'max', field: AIR_T.field, as: 'tmax' }],
              from: AIR_T.measurement,
              where: [...range(m), { tag: 'role', equals: ROLES.outdoor }],
              interval: '1h',
              groupBy: ['tenant', 'site'],
              fill: 'none',
            }),
          ),
          query(select({ select: [{ field: HEAT.field, as: 'v' }], from: HEAT.measurement, where: [...range(m), wholeMeter], groupBy: ['tenant', 'site', 'building', 'dev_eui', 'device'] })),
          query(select({ select: [{ field: ELEC.field, as: 'v' }], from: ELEC.measurement, where: [...range(m), wholeMeter, { tag: 'role', equals: ROLES.buildingMain }], groupBy: ['tenant', 'site', 'building', 'dev_eui', 'device'] })),
        ]);
      const [cur, before] = await Promise.all([read(ym), read(shiftMonth(ym, -12))]);
      const outdoor = (series: (typeof cur)[0], t: Record<string, string>) => series.find((s) => s.tags?.tenant === t.tenant && s.tags?.site === t.site);
      const meterKey = (t: Record<string, string> | undefined) => `${t?.tenant}\u0000${t?.site}\u0000${t?.dev_eui}\u0000${t?.device}`;
      const findings: Finding[] = [];
      for (const [meters, previous] of [
        [cur[1], before[1]],
        [cur[2], before[2]],
      ] as const) {
        for (const { tags, rows } of seriesRows(meters)) {
          const p = paramsFor(rulesFor, 'E5', opts, tags.tenant ?? '', tags.site ?? '');
          const prevRows = seriesRows(previous.filter((s) => meterKey(s.tags) === meterKey(tags)))[0]?.rows;
          const outNow = outdoor(cur[0], tags);
          const outBefore = outdoor(before[0], tags);
          if (!p || !prevRows || !outNow || !outBefore) continue;
          const tz = calendarFor(tags.tenant ?? '', tags.site ?? '').timeZone;
          const djuNow = degreeDays(seriesRows([outNow])[0]!.rows, ym, tz, p.baseC, opts.minDayCoverage);
          const ymBefore = shiftMonth(ym, -12);
          const djuBefore = degreeDays(seriesRows([outBefore])[0]!.rows, ymBefore, tz, p.baseC, opts.minDayCoverage);
          if (!djuNow || !djuBefore || djuNow.dju < p.minDegreeDays || djuBefore.dju < p.minDegreeDays) continue;
          const month = (m: string) => ({ start: localDayBounds(`${m}-01`, tz).start.getTime(), end: localDayBounds(`${shiftMonth(m, 1)}-01`, tz).start.getTime() });
          const a = month(ym);
          const b = month(ymBefore);
          const whNow = consumption(points(rows, 'v'), a.start, a.end, 6 * HOUR);
          const whBefore = consumption(points(prevRows, 'v'), b.start, b.end, 6 * HOUR);
          if (whNow === undefined || whBefore === undefined || whBefore <= 0) continue;
          const kwhNow = Math.round(whNow / 1000);
          const kwhBefore = Math.round(whBefore / 1000);
          const rNow = round2(whNow / 1000 / djuNow.dju);
          const rBefore = round2(whBefore / 1000 / djuBefore.dju);
          const change = Math.round((rNow / rBefore - 1) * 100);
          const subject: Subject = {
            tenant: tags.tenant ?? '',
            site: tags.site ?? '',
            ...(tags.building ? { building: tags.building } : {}),
            ...(tags.dev_eui ? { devEui: tags.dev_eui } : {}),
            ...(tags.device ? { device: tags.device } : {}),
          };
          const who = describeSubject(subject, siteName);
          const m1 = monthName(ym);
          const m0 = monthName(ymBefore);
          const sign = (n: number) => (n >= 0 ? `+${n}` : `${n}`);
          findings.push({
            rule: info,
            subject,
            at: new Date(to),
            firing: rNow > rBefore * p.factor,
            severity: 'warning',
            window: { from: new Date(a.start), to: new Date(a.end) },
            thresholds: { factor: p.factor, max_change_pct: Math.round((p.factor - 1) * 100), base_c: p.baseC, min_dju: p.minDegreeDays },
            measured: {
              month: ym,
              kwh: kwhNow,
              dju: djuNow.dju,
              kwh_per_dju: rNow,
              month_last_year: ymBefore,
              kwh_last_year: kwhBefore,
              dju_last_year: djuBefore.dju,
              kwh_per_dju_last_year: rBefore,
              change_pct: change,
              outdoor_days: `${djuNow.days}/${djuNow.ofDays}`,
            },
            message: {
              fr: `Consommation par degré-jour en hausse : ${who.fr}, ${formatNumber2.fr(rNow)} kWh/DJU en ${m1.fr} (${formatNumber.fr(kwhNow)} kWh pour ${formatNumber.fr(djuNow.dju)} DJU base ${p.baseC}) contre ${formatNumber2.fr(rBefore)} kWh/DJU en ${m0.fr} (${formatNumber.fr(kwhBefore)} kWh, ${formatNumber.fr(djuBefore.dju)} DJU), soit ${sign(change)} % (seuil +${Math.round((p.factor - 1) * 100)} %).`,
              en: `Consumption per degree-day rising: ${who.en}, ${formatNumber2.en(rNow)} kWh/HDD in ${m1.en} (${formatNumber.en(kwhNow)} kWh for ${formatNumber.en(djuNow.dju)} HDD base ${p.baseC}) against ${formatNumber2.en(rBefore)} kWh/HDD in ${m0.en} (${formatNumber.en(kwhBefore)} kWh, ${formatNumber.en(djuBefore.dju)} HDD), ${sign(change)} % (limit +${Math.round((p.factor - 1) * 100)} %).`,
            },
          });
        }
      }
      return findings;
    }),
  };
}

export const E4_DEFAULTS = { ratio: 0.5, days: 7, nightFrom: 0, nightTo: 5, role: ROLES.buildingMain as string };

/** E4: a building that keeps consuming at night: forgotten loads, ventilation, heating without set-back. */
export function baseLoadRule(opts: typeof E4_DEFAULTS = E4_DEFAULTS): WindowedRule {
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
        select({
          select: [{ fn: 'non_negative_difference', of: { fn: 'last', field: ELEC.field }, as: 'wh' }],
          from: ELEC.measurement,
          where: [...during(from, to), { tag: 'channel', equals: '' }, { tag: 'role', equals: opts.role }],
          interval: '1h',
          groupBy: ['tenant', 'site', 'building', 'dev_eui', 'device'],
          fill: 'none',
        }),
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

// ---------------------------------------------------------------------------------------------------------
// A2 daily confinement index (ICONE)

const CO2 = QUANTITIES['air.co2'];
const TEN_MIN = 10 * MIN;
/** The classes of the index (arrêté du 1er juin 2016, art. 11): ≤ 1,000 ppm, 1,000–1,700 ppm, > 1,700 ppm. */
const ICONE_LOW_PPM = 1000;
const ICONE_HIGH_PPM = 1700;
const ICONE_LEVELS: Text[] = [
  { fr: 'confinement nul', en: 'no confinement' },
  { fr: 'confinement faible', en: 'low confinement' },
  { fr: 'confinement moyen', en: 'medium confinement' },
  { fr: 'confinement élevé', en: 'high confinement' },
  { fr: 'confinement très élevé', en: 'very high confinement' },
  { fr: 'confinement extrême', en: 'extreme confinement' },
];

// 3 ("élevé") rather than 4: the first level of the published scale that calls for better aeration, and the daily
// level the project's domain reference sets for this report; a site that wants fewer alerts sets 4.
export const A2_DEFAULTS = { minIcone: 3, criticalIcone: 5, lookbackDays: 4, minOccupiedHours: 4, minCoverage: 0.75, minValuesPerHour: 2, role: ROLES.room as string };

/**
 * ICONE of CO₂ values (ppm) taken while the room is occupied: (2.5 / log 2) · log(1 + f1 + 3·f2), f1 and f2 the
 * shares of values in 1,000–1,700 ppm and above 1,700 ppm; 0 to 5, stated as the nearest whole number.
 */
export function icone(values: readonly number[]): { exact: number; index: number; f1: number; f2: number } {
  const n1 = values.filter((v) => v > ICONE_LOW_PPM && v <= ICONE_HIGH_PPM).length;
  const n2 = values.filter((v) => v > ICONE_HIGH_PPM).length;
  const f1 = n1 / values.length;
  const f2 = n2 / values.length;
  const exact = round2((2.5 / Math.log10(2)) * Math.log10(1 + f1 + 3 * f2));
  // Rounded from the two decimals shown, so that the index and the figure beside it agree.
  return { exact, index: Math.round(exact), f1, f2 };
}

/** The 10-minute slots (start instants) of local day `date` during which the site is occupied. */
function occupiedSlots(date: string, cal: SiteCalendar): number[] {
  const { start, end } = localDayBounds(date, cal.timeZone);
  const out: number[] = [];
  for (let t = start.getTime(); t < end.getTime(); t += TEN_MIN) if (isOccupied(new Date(t), cal)) out.push(t);
  return out;
}

/** A2: a room whose air was confined over its last complete occupied day: aerate, check the ventilation. */
export function confinementIndexRule(opts: typeof A2_DEFAULTS = A2_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'A2',
    version: 1,
    category: 'air',
    title: { fr: 'Air confiné : indice ICONE élevé', en: 'Stuffy air: high ICONE index' },
    source: {
      text: {
        fr: "Indice de confinement ICONE du CSTB, calculé sur les périodes d'occupation à partir des concentrations de CO₂ : (2,5 / log 2) × log(1 + f1 + 3 f2), f1 et f2 étant les parts des valeurs comprises entre 1 000 et 1 700 ppm et supérieures à 1 700 ppm ; de 0 (confinement nul) à 5 (confinement extrême). La surveillance réglementaire le calcule sur une semaine de mesures ; le calcul par journée d'occupation et le seuil de 3 (confinement élevé) sont des réglages par défaut de Veilleur",
        en: 'The CSTB confinement index ICONE, computed over occupied periods from CO₂ concentrations: (2.5 / log 2) × log(1 + f1 + 3 f2), f1 and f2 being the shares of values between 1,000 and 1,700 ppm and above 1,700 ppm; from 0 (no confinement) to 5 (extreme confinement). The regulatory survey computes it over a week of measurements; computing it per occupied day and the threshold of 3 (high confinement) are Veilleur defaults',
      },
      reference:
        "Arrêté du 1er juin 2016 relatif aux modalités de surveillance de la qualité de l'air intérieur dans certains établissements recevant du public, article 11 (IV) ; CSTB, Protocole de mesure en continu du dioxyde de carbone dans l'air (indice de confinement ICONE), mars 2023",
    },
    action: {
      fr: 'Aérer la salle : ouvrir grand les fenêtres quelques minutes entre les cours et aux récréations ; faire vérifier la ventilation (entrées d’air, bouches, débits).',
      en: 'Air the room: open the windows wide for a few minutes between lessons and at breaks; have the ventilation checked (air inlets, vents, flow rates).',
    },
    clearAfterMs: 0,
  };
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      // Enough days back for the earliest candidate day in any time zone; each site's days are cut below.
      const from = to - (opts.lookbackDays + 2) * DAY;
      // 10-minute means: the regulation's measurement step (one value every ten minutes), whatever the sensor's rate.
      const series = await query(
        select({
          select: [{ fn: 'mean', field: CO2.field, as: 'ppm' }],
          from: CO2.measurement,
          where: [...during(from, to), { tag: 'role', equals: opts.role }],
          interval: '10m',
          groupBy: ['tenant', 'site', 'building', 'zone', 'dev_eui', 'device'],
          fill: 'none',
        }),
      );
      // Per site: its last complete local day with enough occupied hours, and that day's occupied slots.
      const days = new Map<string, { date: string; slots: number[] } | undefined>();
      const dayOf = (tenant: string, site: string) => {
        const key = `${tenant}\u0000${site}`;
        if (!days.has(key)) {
          const cal = calendarFor(tenant, site);
          const today = localTime(new Date(to), cal.timeZone).date;
          let found: { date: string; slots: number[] } | undefined;
          for (let i = 1; i <= opts.lookbackDays && !found; i++) {
            const date = shiftDate(today, -i);
            const slots = occupiedSlots(date, cal);
            if (slots.length * TEN_MIN >= opts.minOccupiedHours * HOUR) found = { date, slots };
          }
          days.set(key, found);
        }
        return days.get(key);
      };
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const tenant = tags.tenant ?? '';
        const site = tags.site ?? '';
        const p = paramsFor(rulesFor, 'A2', opts, tenant, site);
        const day = p && dayOf(tenant, site);
        if (!p || !day) continue;
        const occupied = new Set(day.slots);
        const values = points(rows, 'ppm').filter((x) => occupied.has(x.t));
        // An occupied hour is measured when it holds enough values (fewer when the site opens or closes within it).
        const byHour = new Map<number, { slots: number; values: number }>();
        for (const t of day.slots) {
          const h = byHour.get(Math.floor(t / HOUR)) ?? { slots: 0, values: 0 };
          byHour.set(Math.floor(t / HOUR), { ...h, slots: h.slots + 1 });
        }
        for (const x of values) byHour.get(Math.floor(x.t / HOUR))!.values++;
        const hours = byHour.size;
        const measuredHours = [...byHour.values()].filter((h) => h.values >= Math.min(opts.minValuesPerHour, h.slots)).length;
        // No verdict on a day the sensor mostly missed: an offline sensor must not raise (or clear) an alert.
        if (values.length === 0 || measuredHours < opts.minCoverage * hours) continue;
        const { exact, index, f1, f2 } = icone(values.map((x) => x.v));
        const between = Math.round(f1 * 100);
        const above = Math.round(f2 * 100);
        const coverage = Math.round((measuredHours / hours) * 100);
        const bounds = localDayBounds(day.date, calendarFor(tenant, site).timeZone);
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const date = formatDate(day.date);
        const level = ICONE_LEVELS[index]!;
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing: index >= p.minIcone,
          severity: index >= opts.criticalIcone ? 'critical' : 'warning',
          window: { from: bounds.start, to: bounds.end },
          thresholds: { min_icone: p.minIcone, critical_icone: opts.criticalIcone, min_coverage_pct: Math.round(opts.minCoverage * 100) },
          measured: {
            day: day.date,
            icone: index,
            icone_exact: exact,
            above_1700_pct: above,
            between_1000_1700_pct: between,
            ten_minute_values: values.length,
            occupied_h: round1((day.slots.length * TEN_MIN) / HOUR),
            coverage_pct: coverage,
          },
          message: {
            fr: `Air confiné le ${date.fr} : ${who.fr}, indice ICONE ${index} sur 5 (${level.fr}), CO₂ au-dessus de ${formatNumber.fr(ICONE_HIGH_PPM)} ppm pendant ${above} % du temps d'occupation et entre ${formatNumber.fr(ICONE_LOW_PPM)} et ${formatNumber.fr(ICONE_HIGH_PPM)} ppm pendant ${between} % (${plural.fr(measuredHours, 'heure mesurée', 'heures mesurées')} sur ${hours}, ${coverage} %) : aérer entre les cours et faire vérifier la ventilation.`,
            en: `Stuffy air on ${date.en}: ${who.en}, ICONE index ${index} out of 5 (${level.en}), CO₂ above ${formatNumber.en(ICONE_HIGH_PPM)} ppm for ${above} % of the occupied time and between ${formatNumber.en(ICONE_LOW_PPM)} and ${formatNumber.en(ICONE_HIGH_PPM)} ppm for ${between} % (${plural.en(measuredHours, 'hour', 'hours')} measured out of ${hours}, ${coverage} %): air the room between lessons and have the ventilation checked.`,
          },
        });
      }
      return findings;
    }),
  };
}

const fr = formatNumber.fr;
const en = formatNumber.en;
const KWH = { factor: 0.001, unit: 'kWh' };
/** '10-01..05-20' as "1er octobre – 20 mai" / "1 October – 20 May". */
function seasonWords(s: string): Text {
  const day = (md: string, lang: 'fr' | 'en') => {
    const d = new Date(`2000-${md}T12:00:00Z`);
    const text = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
    return lang === 'fr' ? text.replace(/^1 /, '1er ') : text;
  };
  return { fr: `${day(s.slice(0, 5), 'fr')} – ${day(s.slice(7, 12), 'fr')}`, en: `${day(s.slice(0, 5), 'en')} – ${day(s.slice(7, 12), 'en')}` };
}

/** The energy rules over stored series, in the order they run. */
export const ENERGY_RULES = [
  defineRule({
    id: 'E1',
    kind: 'windowed',
    defaults: E1_DEFAULTS,
    siteParameters: { maxMeanC: celsius('maxMeanC (°C)'), season },
    description: (d) => ({
      fr: `Chauffage au-dessus de 19 °C : moyenne des pièces (rôle room) d’un bâtiment sur ses heures d’occupation des dernières ${d.windowHours} h > ${fr(d.maxMeanC)} °C, en saison de chauffe (${seasonWords(d.season).fr} par défaut).`,
      en: `Heating above 19 °C: mean of a building’s rooms (role room) over its occupied hours of the last ${d.windowHours} h > ${en(d.maxMeanC)} °C, in the heating season (${seasonWords(d.season).en} by default).`,
    }),
    reads: [ROLES.room],
    evidence: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.room], threshold: 'max_mean_c' },
    create: overheatingOccupiedRule,
  }),
  defineRule({
    id: 'E2',
    kind: 'windowed',
    defaults: E2_DEFAULTS,
    siteParameters: { maxC24to48h: celsius('maxC24to48h (°C)'), maxC48h: celsius('maxC48h (°C)'), coolDownHours: num(0, 24, 'coolDownHours'), preheatHours: num(0, 12, 'preheatHours'), season },
    description: (d) => ({
      fr: `Bâtiment inoccupé chauffé : sur la dernière inoccupation d’au moins 24 h, moyenne > ${fr(d.maxC24to48h)} °C si elle est prévue pour moins de 48 h, > ${fr(d.maxC48h)} °C au-delà (durée prévue au calendrier du site, jugée dès le début de la fermeture ; ${fr(d.coolDownHours)} h de refroidissement et ${fr(d.preheatHours)} h de relance exclues), en saison de chauffe. Pendant la fermeture, l’alerte ne se lève pas avant sa fin.`,
      en: `Unoccupied building heated: over the latest closure of at least 24 h, mean > ${en(d.maxC24to48h)} °C when it is planned for under 48 h, > ${en(d.maxC48h)} °C beyond (length as planned in the site calendar, judged from the start of the closure; ${en(d.coolDownHours)} h of cool-down and ${en(d.preheatHours)} h of pre-heat left out), in the heating season. While the closure goes on, the alert does not clear before its end.`,
    }),
    reads: [ROLES.room],
    evidence: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.room], threshold: 'max_c' },
    create: heatedUnoccupiedRule,
  }),
  defineRule({
    id: 'E3',
    kind: 'windowed',
    defaults: E3_DEFAULTS,
    siteParameters: {
      maxIndoorC: celsius('maxIndoorC (°C)'),
      minMinutes: int(15, 1440, 'minMinutes'),
      minCoolingW: num(0, 1e7, 'minCoolingW (W)'),
      exemptDevices: z.array(z.string().min(1), { error: 'expected a list of device names or DevEUIs' }),
    },
    description: (d) => ({
      fr: `Climatisation sous 26 °C : un compteur de rôle cooling tire plus de ${fr(d.minCoolingW)} W pendant plus de ${d.minMinutes} min alors que les pièces desservies (même zone, sinon même bâtiment) sont à ${fr(d.maxIndoorC)} °C ou moins. Salles serveur et appareils exemptés exclus.`,
      en: `Cooling below 26 °C: a meter of role cooling draws over ${en(d.minCoolingW)} W for more than ${d.minMinutes} min while the rooms it serves (same zone, else same building) are at ${en(d.maxIndoorC)} °C or less. Server rooms and exempted devices excluded.`,
    }),
    reads: [ROLES.cooling, ROLES.room],
    evidence: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.room], threshold: 'max_indoor_c' },
    create: coolingBelow26Rule,
  }),
  defineRule({
    id: 'E4',
    kind: 'windowed',
    defaults: E4_DEFAULTS,
    siteParameters: { ratio: num(0.05, 1, 'ratio') },
    description: (d) => ({
      fr: `Talon de nuit : médiane de la consommation horaire ${String(d.nightFrom).padStart(2, '0')}–${String(d.nightTo).padStart(2, '0')} h sur les ${d.days} derniers jours complets (heure locale) > ${fr(d.ratio * 100)} % de la médiane des heures occupées.`,
      en: `Night base load: median hourly consumption ${String(d.nightFrom).padStart(2, '0')}:00–${String(d.nightTo).padStart(2, '0')}:00 over the last ${d.days} complete local days > ${en(d.ratio * 100)} % of the occupied-hours median.`,
    }),
    reads: [ROLES.buildingMain],
    evidence: {
      quantity: 'metering.electricity.activeEnergy',
      aggregation: 'hourly',
      roles: [ROLES.buildingMain],
      scale: KWH,
      // The rule compares the night median to max_ratio × the occupied median: that product is the line to stay under.
      threshold: ({ thresholds, measured }) =>
        typeof thresholds.max_ratio === 'number' && typeof measured.occupied_median_kwh_per_h === 'number' ? thresholds.max_ratio * measured.occupied_median_kwh_per_h : undefined,
    },
    create: baseLoadRule,
  }),
  defineRule({
    id: 'E5',
    kind: 'windowed',
    defaults: E5_DEFAULTS,
    siteParameters: { factor: num(1, 3, 'factor'), baseC: num(10, 25, 'baseC (°C)'), minDegreeDays: num(0, 1000, 'minDegreeDays') },
    description: (d) => ({
      fr: `Dérive par degré-jour : kWh par DJU (base ${fr(d.baseC)} °C, (Tmin+Tmax)/2 du capteur extérieur du site) du dernier mois complet > ${fixed(d.factor, 2).fr} × celui du même mois l’an dernier (compteurs de chaleur et compteurs principaux d’électricité ; au moins ${fr(d.minDegreeDays)} DJU).`,
      en: `Degree-day drift: kWh per heating degree-day (base ${en(d.baseC)} °C, (Tmin+Tmax)/2 from the site’s outdoor sensor) of the last complete month > ${fixed(d.factor, 2).en} × the same month last year (heat meters and main electricity meters; at least ${en(d.minDegreeDays)} HDD).`,
    }),
    reads: [ROLES.outdoor, ROLES.buildingMain],
    evidence: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.buildingMain], scale: KWH },
    create: degreeDayDriftRule,
  }),
  defineRule({
    id: 'A2',
    kind: 'windowed',
    defaults: A2_DEFAULTS,
    siteParameters: { minIcone: int(1, 5, 'minIcone') },
    description: (d) => ({
      fr: `Air confiné : indice de confinement ICONE d’une pièce (rôle room) ≥ ${d.minIcone} sur les heures d’occupation de son dernier jour d’ouverture complet (moyennes du CO₂ sur 10 min) ; critique à ${d.criticalIcone}. Pas de verdict sous ${d.minOccupiedHours} h d’occupation, ni quand moins de ${fr(d.minCoverage * 100)} % des heures d’occupation ont ${d.minValuesPerHour} valeurs ou plus.`,
      en: `Stuffy air: a room’s (role room) confinement index ICONE ≥ ${d.minIcone} over the occupied hours of its last complete open day (10-minute CO₂ means); critical at ${d.criticalIcone}. No verdict under ${d.minOccupiedHours} occupied hours, nor when fewer than ${en(d.minCoverage * 100)} % of the occupied hours have ${d.minValuesPerHour} values or more.`,
    }),
    fields: {
      day: { fr: 'Jour examiné', en: 'Day examined' },
      icone: { fr: 'Indice de confinement ICONE (0 à 5)', en: 'Confinement index ICONE (0 to 5)' },
      icone_exact: { fr: 'Indice ICONE avant arrondi', en: 'ICONE index before rounding' },
      above_1700_pct: { fr: 'Part du temps d’occupation au-dessus de 1 700 ppm', en: 'Share of occupied time above 1,700 ppm' },
      between_1000_1700_pct: { fr: 'Part du temps d’occupation entre 1 000 et 1 700 ppm', en: 'Share of occupied time between 1,000 and 1,700 ppm' },
      ten_minute_values: { fr: 'Valeurs sur 10 min pendant l’occupation', en: '10-minute values while occupied' },
      coverage_pct: { fr: 'Heures d’occupation mesurées', en: 'Occupied hours measured' },
      min_icone: { fr: 'Indice à partir duquel l’alerte se lève', en: 'Index that raises the alert' },
      critical_icone: { fr: 'Indice critique', en: 'Critical index' },
      min_coverage_pct: { fr: 'Part minimale des heures d’occupation mesurées', en: 'Minimum share of occupied hours measured' },
    },
    reads: [ROLES.room],
    // The room's CO₂ with the two class limits of the index: time between them counts once, above the upper one three times.
    evidence: { quantity: 'air.co2', aggregation: 'raw', roles: [ROLES.room], threshold: [ICONE_LOW_PPM, ICONE_HIGH_PPM] },
    create: confinementIndexRule,
  }),
] as const;
