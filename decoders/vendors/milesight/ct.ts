/**
 * Milesight CT10x / CT30x smart current transformers: entries shared by CT101 and CT303.
 *
 * Follows Milesight "CT10x Uplink Data" (https://www.milesight.com/products/docs/en/ct10x/protocol/ct/ct10x-uplink.html)
 * and "CT3xx Uplink Data" (https://www.milesight.com/products/docs/en/ct3xx/protocol/ct/ct3xx-uplink.html):
 *   total current xx 97 UINT32/100 Ah (wraps to 0 after FFFFFFFF), current xx 98 UINT16/100 A (CT10x) or xx 99 UINT16/10 A
 *   (CT30x), FFFF = collection failure; temperature 09 67 INT16/10 °C, FFFD = over range, FFFF = collection failure;
 *   current alarm 8x 98/99 = max + min + latest current + alarm status bits (01 threshold alarm, 02 threshold alarm
 *   dismiss, 04 over-range alarm, 08 over-range alarm dismiss; 05 and 0a combine them);
 *   temperature alarm 89 67 = temperature + 00 dismiss / 01 alarm.
 * The device reports current and ampere-hours only (no voltage): `total_current` (Ah) has no canonical quantity and
 * stays in `data`, as does the (cable) temperature.
 */
import type { ByteReader } from '../../core/reader.ts';
import { scaled, type TlvContext, type TlvEntry } from './tlv.ts';

export interface CtChannel {
  /** Canonical reading channel ("1".."3"), or undefined on the single-channel CT10x. */
  channel: string | undefined;
  /** Prefix of the vendor field names: "current" (CT10x) or "current_chn1" (CT30x). */
  prefix: string;
  /** Name of the total-current field: "total_current" (CT10x) or "current_chn1_total" (CT30x). */
  totalField: string;
}

function readCurrent(r: ByteReader, field: string, divisor: number): number | undefined {
  const raw = r.u16le(field);
  return raw === 0xffff ? undefined : scaled(raw, divisor);
}

export function totalCurrentEntry(channelId: number, ch: CtChannel): TlvEntry {
  return {
    channel: channelId, type: 0x97, size: 4, name: `${ch.totalField}`,
    decode: (r, ctx) => ctx.set(ch.totalField, scaled(r.u32le('total current'), 100)),
  };
}

export function currentEntry(channelId: number, type: number, divisor: number, ch: CtChannel): TlvEntry {
  return {
    channel: channelId, type, size: 2, name: ch.prefix,
    decode: (r, ctx) => {
      const a = readCurrent(r, 'current', divisor);
      if (a === undefined) {
        ctx.set(`${ch.prefix}_sensor_status`, 'read failed');
        ctx.warn(`${ch.prefix}: FFFF, current collection failure`);
        return;
      }
      ctx.set(ch.prefix, a);
      currentReading(ctx, a, ch);
    },
  };
}

function currentReading(ctx: TlvContext, a: number, ch: CtChannel): void {
  if (ch.channel === undefined) ctx.reading('electricity.current', a);
  else ctx.reading('electricity.current', a, { channel: ch.channel });
}

export function currentAlarmEntry(channelId: number, type: number, divisor: number, ch: CtChannel): TlvEntry {
  return {
    channel: channelId, type, size: 7, name: `${ch.prefix} alarm`,
    decode: (r, ctx) => {
      const max = readCurrent(r, 'max current', divisor);
      const min = readCurrent(r, 'min current', divisor);
      const latest = readCurrent(r, 'latest current', divisor);
      const status = r.u8('alarm status');
      if (max !== undefined) ctx.set(`${ch.prefix}_max`, max);
      if (min !== undefined) ctx.set(`${ch.prefix}_min`, min);
      if (latest !== undefined) {
        ctx.set(ch.prefix, latest);
        currentReading(ctx, latest, ch);
      } else ctx.set(`${ch.prefix}_sensor_status`, 'read failed');
      const yes = (bit: number): 'yes' | 'no' => ((status & bit) !== 0 ? 'yes' : 'no');
      ctx.set(`${ch.prefix}_alarm`, {
        current_threshold_alarm: yes(0x01),
        current_threshold_alarm_release: yes(0x02),
        current_over_range_alarm: yes(0x04),
        current_over_range_alarm_release: yes(0x08),
      });
      if (status & 0x01) ctx.event('alarm', `${ch.prefix}: current threshold alarm`);
      if (status & 0x04) ctx.event('alarm', `${ch.prefix}: current over-range alarm`);
    },
  };
}

function readTemperature(r: ByteReader, ctx: TlvContext): void {
  const raw = r.u16le('temperature');
  if (raw === 0xfffd) {
    ctx.set('temperature_sensor_status', 'over range');
  } else if (raw === 0xffff) {
    ctx.set('temperature_sensor_status', 'read failed');
  } else {
    ctx.set('temperature', scaled(raw > 0x7fff ? raw - 0x10000 : raw, 10));
  }
}

export function ctTemperatureEntries(): TlvEntry[] {
  return [
    { channel: 0x09, type: 0x67, size: 2, name: 'temperature', decode: (r, ctx) => readTemperature(r, ctx) },
    {
      channel: 0x89, type: 0x67, size: 3, name: 'temperature alarm',
      decode: (r, ctx) => {
        readTemperature(r, ctx);
        const alarm = r.u8('temperature alarm');
        ctx.set('temperature_alarm', alarm === 1 ? 'threshold alarm' : 'threshold alarm release');
        if (alarm === 1) ctx.event('alarm', 'temperature threshold alarm');
      },
    },
  ];
}
