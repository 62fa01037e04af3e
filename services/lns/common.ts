import { z } from 'zod';
import { parseRfc3339 } from './time.ts';
import type { DeviceIdentity, StatusEvent } from './uplink.ts';

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
  receivedAt: Date,
  s: { batteryLevel?: number | undefined; batteryLevelUnavailable: boolean; externalPowerSource: boolean; margin?: number | undefined },
): StatusEvent {
  return {
    kind: 'status',
    topic,
    ...id,
    receivedAt,
    batteryLevelUnavailable: s.batteryLevelUnavailable,
    externalPowerSource: s.externalPowerSource,
    ...(s.batteryLevel !== undefined && !s.batteryLevelUnavailable ? { batteryLevel: s.batteryLevel } : {}),
    ...(s.margin !== undefined ? { marginDb: s.margin } : {}),
  };
}
