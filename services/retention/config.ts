/**
 * The `retention:` key of VEILLEUR_CONFIG: how long each data class is kept, which rollups are computed, and who
 * decided it and why. Applied at start-up (compared with what InfluxDB has, every difference recorded in the audit
 * log) and by `veilleur retention set`. Shortening a retention deletes data: it is refused without a `reason`.
 *
 * ```yaml
 * retention:
 *   raw: 90d          # readings and uplinks
 *   hourly: 730d      # <measurement>_1h
 *   daily: 1900d      # <measurement>_1d (BACS: monthly data 5 years)
 *   events: 3650d     # alert_event
 *   actions: 365d     # action_log: who did what (personal data: 180d to 365d)
 *   changedBy: "Marie Dupont, DSI"
 *   reason: "Délibération 2026-014 : conservation minimale"
 *   rollups: { hourly: true, daily: true, timeZone: Europe/Paris, lagMinutes: 15, everyMinutes: 5 }
 * ```
 */
import { z } from 'zod';
import { isTimeZone } from '../time/calendar.ts';
import { CLASSES, durationMs, formatDuration, type ConfigurableClass } from './classes.ts';

/** A retention duration for `cls`, in canonical text ('2w' → '14d'). */
const durationFor = (cls: ConfigurableClass) => {
  const min = durationMs(CLASSES[cls].minimum.duration)!;
  return z
    .string({ error: `expected a duration like '90d', '2w', '36h' or 'inf'` })
    .superRefine((s, ctx) => {
      const ms = durationMs(s);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `expected a duration like '90d', '2w', '36h' or 'inf', got '${s}'` });
      else if (ms < min) ctx.addIssue({ code: 'custom', message: `expected at least ${CLASSES[cls].minimum.duration} (${CLASSES[cls].minimum.why}), got '${s}'` });
    })
    .transform((s) => formatDuration(durationMs(s)!))
    .default(CLASSES[cls].default);
};

export const rollupSettingsSchema = z.strictObject({
  /** `<measurement>_1h`: hourly min/mean/max/last and index differences. */
  hourly: z.boolean().default(true),
  /** `<measurement>_1d`: the same per local day of each site (23, 24 or 25 h). */
  daily: z.boolean().default(true),
  /** Local days of sites without a calendar (`sites[].calendar.timeZone` otherwise). */
  timeZone: z.string().refine(isTimeZone, { message: "expected an IANA time zone, e.g. 'Europe/Paris'" }).default('Europe/Paris'),
  /** A period is computed this long after it ends, so that late uplinks are in. */
  lagMinutes: z.number().int().min(0).max(1440).default(15),
  everyMinutes: z.number().int().min(1).max(1440).default(5),
  /** Catch-up after downtime: at most this many periods per resolution and round. */
  maxPeriodsPerRound: z.number().int().min(1).max(10_000).default(168),
});

export const retentionSchema = z.strictObject({
  raw: durationFor('raw'),
  hourly: durationFor('hourly'),
  daily: durationFor('daily'),
  events: durationFor('events'),
  actions: durationFor('actions'),
  /** Who decided the values in this file (recorded in the audit log). */
  changedBy: z.string().trim().min(1).max(200).optional(),
  /** Why: required to shorten a retention (it deletes data) or turn a rollup off. */
  reason: z.string().trim().min(3, 'expected a reason of at least 3 characters').max(2000).optional(),
  rollups: rollupSettingsSchema.prefault({}),
});

export type RetentionConfig = z.output<typeof retentionSchema>;
export type RetentionConfigInput = z.input<typeof retentionSchema>;
export type RollupSettings = RetentionConfig['rollups'];

/** The defaults, as `retention:` absent from the file gives them. */
export function defaultRetention(): RetentionConfig {
  return retentionSchema.parse({});
}
