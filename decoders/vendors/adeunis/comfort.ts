/**
 * Adeunis COMFORT 2 and COMFORT CO2 (indoor climate) frames. Written from the vendor's frame
 * descriptions and published examples, no vendor code used:
 *
 * - 0x4C COMFORT data: N samples [t=0, t-1, ...] of {temperature int16 MSB first, 0.1 °C;
 *   relative humidity uint8, %}, then an optional 4-byte timestamp (status bit 2).
 * - 0x4D COMFORT alarm: alarm status byte (high nibble temperature, low nibble humidity, non-zero =
 *   active), temperature int16 0.1 °C, humidity uint8 %.
 * - 0x6A COMFORT CO2 data: N samples of {temperature int16 0.1 °C; humidity uint8 %; CO2 uint16 ppm},
 *   then an optional 4-byte timestamp.
 * - 0x30 daily keep-alive and 0x10/0x20 configuration frames: kept raw.
 *
 * Sources: COMFORT CO2 Technical Reference Manual APP 2.3.x (registers S301 "transmit period" = number
 * of history logs per frame, S318 "Time stamping"), and the vendor examples in TTN lorawan-devices
 * vendor/adeunis/comfort-codec.yaml and comfort-co2-codec.yaml.
 */
import { emptyResult } from '../../core/boundary.ts';
import type { DecodeInput, DecodeResult } from '../../core/types.ts';
import { applyTimestamp, decodeConfigFrame, endFixedFrame, hex, parseHeader, sampleCount, statusEvents, unknownFrame } from './frame.ts';

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function decodeComfortFrame(input: DecodeInput, withCo2: boolean): DecodeResult {
  const h = parseHeader(input.bytes, {
    layout: 'timestamped',
    appFlag1: 'configurationInconsistency',
    ...(input.recvTime ? { recvTime: input.recvTime } : {}),
  });
  const r = h.reader;
  const result = emptyResult();
  result.events.push(...statusEvents(h));
  if (decodeConfigFrame(h, input.bytes, result)) return result;
  const data = result.data;
  const at = () => (h.time ? { time: h.time } : {});
  const dataCode = withCo2 ? 0x6a : 0x4c;

  if (h.code === dataCode) {
    data.type = withCo2 ? '0x6a Comfort CO2 data' : '0x4c Comfort 2 data';
    data.status = h.status;
    applyTimestamp(h, result);
    const n = sampleCount(h, input.bytes, result, withCo2 ? 5 : 3, 'samples');
    const t: number[] = [];
    const rh: number[] = [];
    const co2: number[] = [];
    for (let i = 0; i < n; i++) {
      t.push(round1(r.i16be(`temperature t-${i}`) / 10));
      rh.push(r.u8(`humidity t-${i}`));
      if (withCo2) co2.push(r.u16be(`co2 t-${i}`));
    }
    data.temperature = { unit: '°C', values: t };
    data.humidity = { unit: '%', values: rh };
    if (withCo2) data.co2 = { unit: 'ppm', values: co2 };
    result.readings.push(
      { quantity: 'air.temperature', value: t[0]!, ...at() },
      { quantity: 'air.relativeHumidity', value: rh[0]!, ...at() },
    );
    if (withCo2) result.readings.push({ quantity: 'air.co2', value: co2[0]!, ...at() });
    return result;
  }
  if (h.code === 0x4d && !withCo2) {
    data.type = '0x4d Comfort alarm';
    data.status = h.status;
    const a = r.u8('alarm status');
    const temperature = round1(r.i16be('temperature') / 10);
    const humidity = r.u8('humidity');
    endFixedFrame(h, input.bytes, result, '0x4d alarm frame');
    applyTimestamp(h, result);
    const tActive = (a & 0xf0) !== 0;
    const hActive = (a & 0x0f) !== 0;
    data.alarmTemperature = { alarmStatus: tActive ? 'active' : 'inactive', temperature: { unit: '°C', value: temperature } };
    data.alarmHumidity = { alarmStatus: hActive ? 'active' : 'inactive', humidity: { unit: '%', value: humidity } };
    if (tActive) result.events.push({ type: 'alarm', message: `temperature alarm (${temperature} °C)`, ...at() });
    if (hActive) result.events.push({ type: 'alarm', message: `humidity alarm (${humidity} %)`, ...at() });
    result.readings.push(
      { quantity: 'air.temperature', value: temperature, ...at() },
      { quantity: 'air.relativeHumidity', value: humidity, ...at() },
    );
    return result;
  }
  if (h.code === 0x30) {
    data.type = '0x30 keep alive';
    data.status = h.status;
    data.payload = hex(input.bytes.subarray(2, h.payloadEnd));
    applyTimestamp(h, result);
    return result;
  }
  return unknownFrame(h.code, input);
}
