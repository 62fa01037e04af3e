/**
 * Heating degree-days (DJU, degrés-jours unifiés): the one computation behind rule E5 (kWh per DJU against last
 * year) and the yearly REEN review (kWh per DJU of each building), so that the two never disagree on the same data.
 *
 * Method: the "météo" method of Météo-France, base 18 °C: DJU of a day = max(0, 18 − (Tmin + Tmax) / 2)
 * (../shared/reference/domain-rules.md §2.4; the DJU of the décret tertiaire's climate adjustment, arrêté du
 * 10 avril 2020, article 5). The COSTIC "professionnels" method, which differs on days where 18 °C lies between
 * Tmin and Tmax (mid-season), is not used: Veilleur's figures then compare with the published DJU tables.
 *
 * Days are local days of the site's time zone. Coverage, one rule for every user: a sensor's day counts when the
 * sensor reported in at least DJU_MIN_HOURS of its hours, so that its minimum and maximum are the day's (a day
 * seen only in the afternoon has no Tmin). A place with several outdoor sensors: the mean of their (Tmin + Tmax) / 2
 * over the sensors whose day counts.
 */
import { localTime } from './calendar.ts';

export const DJU_BASE_C = 18;
/** A sensor's day counts when it reported in at least this many hours (of 23, 24 or 25). */
export const DJU_MIN_HOURS = 18;

/** One hour of an outdoor sensor: its minimum and maximum temperature (°C) in the hour starting at `t` (epoch ms). */
export interface OutdoorExtremes {
  t: number;
  tmin: number;
  tmax: number;
  /** The sensor; hours without one are taken as one sensor's. */
  devEui?: string | undefined;
}

/** Degree-days of one day, "météo" method. */
export function degreeDay(tmin: number, tmax: number, baseC = DJU_BASE_C): number {
  return Math.max(0, baseC - (tmin + tmax) / 2);
}

/** Degree-days per local date ('YYYY-MM-DD', sorted) of the days that count; days without enough hours are absent. */
export function dailyDegreeDays(hours: readonly OutdoorExtremes[], timeZone: string, baseC = DJU_BASE_C): Map<string, number> {
  const perSensorDay = new Map<string, { date: string; tmin: number; tmax: number; hours: number }>();
  for (const h of hours) {
    if (!Number.isFinite(h.tmin) || !Number.isFinite(h.tmax) || !Number.isFinite(h.t)) continue;
    const date = localTime(new Date(h.t), timeZone).date;
    const key = `${h.devEui ?? ''}|${date}`;
    const cur = perSensorDay.get(key);
    if (!cur) perSensorDay.set(key, { date, tmin: h.tmin, tmax: h.tmax, hours: 1 });
    else perSensorDay.set(key, { date, tmin: Math.min(cur.tmin, h.tmin), tmax: Math.max(cur.tmax, h.tmax), hours: cur.hours + 1 });
  }
  const means = new Map<string, number[]>();
  for (const d of perSensorDay.values()) {
    if (d.hours < DJU_MIN_HOURS) continue;
    const list = means.get(d.date) ?? [];
    list.push((d.tmin + d.tmax) / 2);
    means.set(d.date, list);
  }
  const out = new Map<string, number>();
  for (const [date, list] of [...means].sort((a, b) => a[0].localeCompare(b[0]))) {
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    out.set(date, degreeDay(mean, mean, baseC));
  }
  return out;
}

/** The sum of the degree-days of `dates` that count, how many of them count, and of how many. */
export function degreeDaysOver(daily: ReadonlyMap<string, number>, dates: readonly string[]): { dju: number; days: number; ofDays: number } {
  let dju = 0;
  let days = 0;
  for (const date of dates) {
    const d = daily.get(date);
    if (d === undefined) continue;
    dju += d;
    days++;
  }
  return { dju, days, ofDays: dates.length };
}
