import { z } from 'zod';
import { parseRfc3339 } from './time.ts';

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
