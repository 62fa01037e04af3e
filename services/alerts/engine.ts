/**
 * Runs the stream rules on each decoded uplink and keeps the alert book. Alert events become line protocol that
 * goes into the spool with the uplink itself (stored as durably, and in the same write), and are handed to the
 * notifiers, which never block ingestion.
 */
import type { Reading } from '../../decoders/index.ts';
import type { DeviceMeta } from '../registry/registry.ts';
import { AlertBook, type AlertEvent } from './lifecycle.ts';
import type { Subject } from './model.ts';
import { alertEventLine } from './store.ts';
import type { StreamInput, StreamRule } from './stream-rules.ts';

export type Notifier = (event: AlertEvent) => void;

export class AlertEngine {
  constructor(
    private readonly rules: StreamRule[],
    readonly book: AlertBook,
    private readonly notifiers: Notifier[] = [],
  ) {}

  /** Evaluates the uplink's channel-less readings; returns the lines of the alert events it caused. */
  onReadings(devEui: string, meta: DeviceMeta, at: Date, readings: Reading[]): string[] {
    const values: StreamInput['values'] = {};
    for (const r of readings) if (r.channel === undefined && !r.time) values[r.quantity] = r.value;
    const subject: Subject = {
      tenant: meta.tenant,
      site: meta.site,
      ...(meta.building ? { building: meta.building } : {}),
      ...(meta.zone ? { zone: meta.zone } : {}),
      devEui,
      device: meta.name,
    };
    const lines: string[] = [];
    for (const rule of this.rules) {
      const finding = rule.evaluate({ subject, role: meta.role, at, values });
      if (!finding) continue;
      for (const event of this.book.apply(finding)) {
        lines.push(alertEventLine(event));
        for (const notify of this.notifiers) notify(event);
      }
    }
    return lines;
  }
}
