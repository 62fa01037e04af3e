/**
 * Adeunis PULSE family (two pulse inputs, channels A and B): one parser for the PULSE v2/v3 and
 * PULSE 4 (V4) radio frames. Written from the vendor's frame descriptions, no vendor code used:
 *
 * - "LoRaWAN 863-870 PULSE - User guide" V2.0.0 (ARF8230AA), §4.1 "Description of the frames":
 *   0x46 periodic frame (counter A, counter B, u32), 0x47 alarm frame (measured flow A/B, u16,
 *   pulses per hour), 0x48 periodic frame with history (frame index; in frame 0 counter A/B, u32;
 *   then pairs of u16 deltas A/B, one pair per 10-minute step).
 * - "PULSE V3 Technical Reference Manual" (APP >= 2.0.0), §2 "Radio protocol": status byte (AppFlag1 =
 *   configuration inconsistency), §1.5.9 "Transmit conditions": 0x30 daily frame (keep alive),
 *   0x46 periodic data frame without history, 0x47 alarm frame (over-flow threshold), 0x5A / 0x5B
 *   periodic data frame with history for channel A / channel B.
 * - PULSE 4 (V4 TRM, APP >= 2.1.0): same frames; the status byte's bit 2 announces a 4-byte
 *   timestamp at the end of the frame (vendor TTN example 0x5a in lorawan-devices pulse-codec.yaml).
 *
 * Counts are raw pulses: the pulse weight (L, Wh, dm³ per pulse) is a property of the meter, so the
 * canonical reading is `metering.pulse.total` with channel "A" / "B".
 */
import { DecodeError } from '../../core/errors.ts';
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult, Reading } from '../../core/types.ts';
import { stopAt } from '../../core/lenient.ts';
import { applyTimestamp, decodeConfigFrame, endFixedFrame, parseHeader, sampleCount, statusEvents, unknownFrame, type StatusLayout } from './frame.ts';

const CHANNELS = ['A', 'B'] as const;

function pulse(value: number, channel: string, time?: Date): Reading {
  return { quantity: 'metering.pulse.total', value, channel, ...(time ? { time } : {}) };
}

export function decodePulseFrame(input: DecodeInput, layout: StatusLayout): DecodeResult {
  const bytes = input.bytes;
  const h = parseHeader(bytes, {
    layout,
    ...(layout === 'classic' ? { appFlag1: 'configurationInconsistency' } : {}),
    ...(input.recvTime ? { recvTime: input.recvTime } : {}),
  });
  const r = h.reader;
  const result = emptyResult();
  result.events.push(...statusEvents(h));
  if (decodeConfigFrame(h, bytes, result)) return result;
  const data = result.data;

  switch (h.code) {
    case 0x30: {
      // Daily frame (keep alive): alarm flags, then 24 h max flow A, max flow B, min flow A, min flow B.
      data.type = '0x30 Pulse keep alive';
      data.status = h.status;
      const flags = r.u8('alarm flags');
      const maxA = r.u16be('channel A max flow (24 h)');
      const maxB = r.u16be('channel B max flow (24 h)');
      const minA = r.u16be('channel A min flow (24 h)');
      const minB = r.u16be('channel B min flow (24 h)');
      endFixedFrame(h, bytes, result, 'keep alive frame');
      applyTimestamp(h, result);
      const max = [maxA, maxB];
      const min = [minA, minB];
      data.channels = CHANNELS.map((c, i) => {
        const flowAlarm = (flags & (0x01 << i)) !== 0;
        const tamperAlarm = (flags & (0x04 << i)) !== 0;
        const leakageAlarm = (flags & (0x10 << i)) !== 0;
        if (flowAlarm) result.events.push({ type: 'alarm', message: `channel ${c}: flow above threshold` });
        if (tamperAlarm) result.events.push({ type: 'tamper', message: `channel ${c}: tamper` });
        if (leakageAlarm) result.events.push({ type: 'leak', message: `channel ${c}: leakage` });
        return {
          name: `channel ${c}`,
          flow: { alarm: flowAlarm, last24hMin: min[i], last24hMax: max[i], unit: 'pulse/h' },
          tamperAlarm,
          leakageAlarm,
        };
      });
      break;
    }
    case 0x46: {
      data.type = '0x46 Pulse data';
      data.status = h.status;
      const a = r.u32be('counter channel A');
      const b = r.u32be('counter channel B');
      endFixedFrame(h, bytes, result, '0x46 data frame');
      applyTimestamp(h, result);
      const time = h.time;
      data.counterValues = [a, b];
      result.readings.push(pulse(a, 'A', time), pulse(b, 'B', time));
      break;
    }
    case 0x47: {
      data.type = '0x47 Pulse alarm';
      data.status = h.status;
      const a = r.u16be('measured flow channel A');
      const b = r.u16be('measured flow channel B');
      endFixedFrame(h, bytes, result, '0x47 alarm frame');
      applyTimestamp(h, result);
      const time = h.time;
      data.flowValues = [a, b];
      data.flowUnit = 'pulse/h';
      result.events.push({ type: 'alarm', message: `flow threshold exceeded (A ${a} pulse/h, B ${b} pulse/h)`, ...(time ? { time } : {}) });
      break;
    }
    case 0x48: {
      // v2 history frames: frame 0 carries both counters, every frame carries (delta A, delta B) pairs.
      data.type = '0x48 Pulse historic data';
      data.status = h.status;
      const frameIndex = r.u8('frame index');
      data.frameIndex = frameIndex;
      let index: [number, number] | undefined;
      if (frameIndex === 0) index = [r.u32be('counter channel A'), r.u32be('counter channel B')];
      const pairs = sampleCount(h, bytes, result, 4, '0x48 delta pairs');
      const deltas: [number[], number[]] = [[], []];
      for (let i = 0; i < pairs; i++) {
        deltas[0].push(r.u16be(`delta A${i}`));
        deltas[1].push(r.u16be(`delta B${i}`));
      }
      data.channels = CHANNELS.map((c, i) => ({
        name: `channel ${c}`,
        ...(index ? { index: index[i] } : {}),
        deltaValues: deltas[i],
      }));
      if (index) result.readings.push(pulse(index[0], 'A'), pulse(index[1], 'B'));
      break;
    }
    case 0x5a:
    case 0x5b: {
      const c = h.code === 0x5a ? 'A' : 'B';
      data.type = `0x${h.code.toString(16)} Pulse data - channel ${c}`;
      data.status = h.status;
      applyTimestamp(h, result);
      const time = h.time;
      let counter = r.u32be(`counter channel ${c}`);
      if (r.offset > h.payloadEnd) throw new DecodeError(`counter channel ${c} needs ${r.offset - h.payloadEnd} more byte(s) before the timestamp`);
      const values = [counter];
      const n = Math.floor((h.payloadEnd - r.offset) / 2);
      if ((h.payloadEnd - r.offset) % 2 !== 0) stopAt(result, bytes.subarray(0, h.payloadEnd), r.offset + 2 * n, `channel ${c} history: an odd byte after the 2-byte deltas`);
      for (let i = 0; i < n; i++) {
        counter -= r.u16be(`delta ${i + 1}`);
        values.push(counter);
      }
      data.counterValues = values;
      result.readings.push(pulse(values[0]!, c, time));
      break;
    }
    default:
      unknownFrame(h.code, input);
  }
  return result;
}
