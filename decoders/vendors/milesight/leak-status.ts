/**
 * "Leakage Status" entry (type 0x00, 1 byte: 0 normal, 1 leak) as Milesight's membrane and mini leak detectors
 * document it, on the channel each model uses. A value other than 0 or 1 is kept in `data` with a warning.
 */
import type { TlvContext, TlvEntry } from './tlv.ts';

export function leak(ctx: TlvContext, raw: number, time?: Date): string {
  if (raw > 1) {
    ctx.warn(`leakage status ${raw} is not documented (0 normal, 1 leak); not stored`);
    return `unknown (${raw})`;
  }
  ctx.reading('water.leak', raw === 1, time ? { time } : {});
  if (raw === 1 && !time) ctx.event('leak', 'water leakage detected');
  return raw === 1 ? 'leak' : 'normal';
}

export function leakStatusEntry(channel: number): TlvEntry {
  return {
    channel, type: 0x00, size: 1, name: 'leakage status',
    decode: (r, ctx) => ctx.set('leakage_status', leak(ctx, r.u8('leakage status'))),
  };
}
