/**
 * Runs the stream rules on each decoded uplink and keeps the alert book. The alert events it returns go to the
 * service's AlertSink (sink.ts), which has them stored with the uplink itself (as durably, in the same write),
 * published and notified.
 */
import type { Reading } from '../../decoders/index.ts';
import type { DeviceMeta } from '../registry/registry.ts';
import { isOccupied, type SiteCalendar } from '../time/calendar.ts';
import { AlertBook, type AlertEvent } from './lifecycle.ts';
import type { Subject } from './model.ts';
import type { StreamInput, StreamRule } from './rules/define.ts';

/**
 * How far a reading's own time (a meter's clock) may be from the uplink's for the reading to count as the device's
 * current state: one usual reporting interval. Older ones are history records (logs, datalog replies).
 */
const CURRENT_WITHIN_MS = 15 * 60_000;

/**
 * The device's current state in an uplink, by quantity: channel-less readings without a time of their own, or
 * else the newest one stamped within CURRENT_WITHIN_MS of the uplink (meters such as the Qalcosonic W1 stamp
 * every reading, alarm flags included, with their clock).
 */
function currentValues(readings: Reading[], at: Date): StreamInput['values'] {
  const values: StreamInput['values'] = {};
  const stampedAt = new Map<string, number>();
  for (const r of readings) {
    if (r.channel !== undefined) continue;
    if (!r.time) {
      values[r.quantity] = r.value;
      stampedAt.set(r.quantity, Number.POSITIVE_INFINITY);
      continue;
    }
    const t = r.time.getTime();
    if (Math.abs(t - at.getTime()) > CURRENT_WITHIN_MS || t < (stampedAt.get(r.quantity) ?? Number.NEGATIVE_INFINITY)) continue;
    values[r.quantity] = r.value;
    stampedAt.set(r.quantity, t);
  }
  return values;
}

/**
 * One uplink as the stream rules see it. A class, not an object with a property defined afterwards: every input has
 * the same shape (V8 keeps its fast property access), and occupancy (the site's local time through Intl) is worked
 * out only if a rule asks (A1, on a CO₂ reading).
 */
class UplinkInput implements StreamInput {
  readonly role: string;
  private occupiedAt: boolean | undefined | null = null;

  constructor(
    readonly subject: Subject,
    private readonly meta: DeviceMeta,
    readonly at: Date,
    readonly values: StreamInput['values'],
    private readonly calendar: ((tenant: string, site: string) => SiteCalendar) | undefined,
  ) {
    this.role = meta.role;
  }

  get occupied(): boolean | undefined {
    if (!this.calendar) return undefined;
    return (this.occupiedAt ??= isOccupied(this.at, this.calendar(this.meta.tenant, this.meta.site)));
  }
}

export class AlertEngine {
  /** `calendarFor`: the sites' occupancy calendars, for rules that only apply when a site is occupied (A1). */
  constructor(
    private readonly rules: StreamRule[],
    readonly book: AlertBook,
    private readonly calendarFor?: (tenant: string, site: string) => SiteCalendar,
  ) {}

  /** One Subject per device, made once: the registry hands out one DeviceMeta object per device and keeps it. */
  private readonly subjects = new WeakMap<DeviceMeta, Map<string, Subject>>();

  private subjectOf(devEui: string, meta: DeviceMeta): Subject {
    let byEui = this.subjects.get(meta);
    if (!byEui) this.subjects.set(meta, (byEui = new Map()));
    let subject = byEui.get(devEui);
    if (!subject) {
      subject = {
        tenant: meta.tenant,
        site: meta.site,
        ...(meta.building ? { building: meta.building } : {}),
        ...(meta.zone ? { zone: meta.zone } : {}),
        devEui,
        device: meta.name,
      };
      byEui.set(devEui, subject);
    }
    return subject;
  }

  /** Evaluates the uplink's current readings; returns the alert events it caused (most uplinks: none). */
  onReadings(devEui: string, meta: DeviceMeta, at: Date, readings: Reading[]): AlertEvent[] {
    const values = currentValues(readings, at);
    const subject = this.subjectOf(devEui, meta);
    const calendar = this.calendarFor;
    const input = new UplinkInput(subject, meta, at, values, calendar);
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      const finding = rule.evaluate(input);
      if (finding) events.push(...this.book.apply(finding));
    }
    return events;
  }
}
