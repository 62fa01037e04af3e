import { z } from 'zod';
import { parseRfc3339 } from './time.ts';
import type { DeviceIdentity, Ignored, LnsFormat, StatusEvent, TimeSource } from './uplink.ts';

export const devEuiHex = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'expected a DevEUI of 16 hexadecimal characters')
  .transform((s) => s.toLowerCase());

export const rfc3339 = z.string().transform((s, ctx) => {
  const d = parseRfc3339(s);
  if (!d) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 timestamp, got '${s.slice(0, 40)}'` });
    return z.NEVER;
  }
  return d;
});

export const stringMap = z.record(z.string(), z.string());

/** Best value over gateways, ignoring gateways that did not report it. */
export function best(values: (number | undefined)[]): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined && (out === undefined || v > out)) out = v;
  return out;
}

/** ChirpStack's status event (DevStatusAns), v3 and v4 alike: battery only when the device reported one. */
export function statusEvent(
  topic: string,
  id: DeviceIdentity,
  time: { receivedAt: Date; timeSource: TimeSource },
  s: { batteryLevel?: number | undefined; batteryLevelUnavailable: boolean; externalPowerSource: boolean; margin?: number | undefined },
): StatusEvent {
  return {
    kind: 'status',
    topic,
    ...id,
    ...time,
    batteryLevelUnavailable: s.batteryLevelUnavailable,
    externalPowerSource: s.externalPowerSource,
    ...(s.batteryLevel !== undefined && !s.batteryLevelUnavailable ? { batteryLevel: s.batteryLevel } : {}),
    ...(s.margin !== undefined ? { marginDb: s.margin } : {}),
  };
}

/**
 * Times before this are not real reception times: Go's zero time ("0001-01-01T00:00:00Z", printed by old ChirpStack
 * gateway bridges for gateways without GPS, chirpstack-gateway-bridge#19) or an unset protobuf timestamp (1970).
 */
const EARLIEST_REAL_TIME_MS = Date.UTC(2000, 0, 1);

/** The first real time among candidates given best first; Veilleur's reception time when there is none. */
export function pickTime(candidates: [TimeSource, Date | undefined][], now: Date): { receivedAt: Date; timeSource: TimeSource } {
  for (const [source, d] of candidates) {
    if (d && d.getTime() >= EARLIEST_REAL_TIME_MS) return { receivedAt: d, timeSource: source };
  }
  return { receivedAt: now, timeSource: 'reception' };
}

/** Earliest real time among gateways (several gateways heard one frame; the first one heard it first). */
export function earliest(dates: (Date | undefined)[]): Date | undefined {
  let out: Date | undefined;
  for (const d of dates) if (d && d.getTime() >= EARLIEST_REAL_TIME_MS && (!out || d < out)) out = d;
  return out;
}

export function ignored(lns: LnsFormat, event: string, known: readonly string[], detail: string): Ignored {
  return { kind: 'ignored', lns, event: known.includes(event) ? event : 'other', detail };
}

/** A number that some network servers send as a string ("-80.000000"): undefined when absent or not a number. */
export const looseNumber = z
  .union([z.number(), z.string()])
  .transform((v) => (typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v)))
  .refine((n) => Number.isFinite(n), 'expected a number');

/** A position from a network server, when it is one (0,0 is "no fix", not the Gulf of Guinea). */
export function position(lat: number | undefined, lon: number | undefined): { latitude: number; longitude: number } | undefined {
  if (lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || (lat === 0 && lon === 0)) return undefined;
  return { latitude: lat, longitude: lon };
}

/** A gateway's time: a hint, so an unreadable one counts as absent instead of rejecting the event. */
export const lenientTime = z.string().transform((s) => parseRfc3339(s));
