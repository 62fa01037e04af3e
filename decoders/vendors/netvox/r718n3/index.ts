/**
 * Netvox R718N3 series — wireless 3-phase current meter (three CTs), DeviceType 0x4A.
 *
 * Follows the R718N3 / R718N3xxx(E) user manual §5.1 "Example of ReportDataCmd" and the Netvox LoRaWAN Application
 * Command format (../frame.ts):
 * - ReportType 0x01: Battery (1, 0.1 V) | Current1 | Current2 | Current3 (2 bytes each, 1 mA) | Multiplier1 (1).
 * - ReportType 0x02: Battery | Multiplier2 (1) | Multiplier3 (1) | reserved (5).
 * - ReportType 0x03: Battery | Current1 | Current2 | Current3 | Multiplier (1): bits 0–1 Multiplier1, bits 2–3
 *   Multiplier2, bits 4–5 Multiplier3, each 0b00 = 1, 0b01 = 5, 0b10 = 10, 0b11 = 100.
 * - ReportType 0x04: Battery | ThresholdAlarm (1): bit0 LowCurrent1Alarm, bit1 HighCurrent1Alarm, bit2 LowCurrent2Alarm,
 *   bit3 HighCurrent2Alarm, bit4 LowCurrent3Alarm, bit5 HighCurrent3Alarm.
 * - ReadConfigReportRsp: MinTime | MaxTime | CurrentChange (2, 1 mA) | reserved.
 * "The real CurrentN = CurrentN × MultiplierN" (manual note). With ReportType 0x01 only Multiplier1 is in the frame:
 * Multiplier2/3 come in the separate ReportType 0x02 frame, so this stateless decoder emits a canonical current for
 * phases 2 and 3 only from ReportType 0x03 frames (and for phase 1 from both); raw values stay in `data`.
 */
import type { DeviceDefinition, DecodeResult } from '../../../core/types.ts';
import { addBattery, decodeNetvox, unknownReportType, type NetvoxDeviceSpec } from '../frame.ts';

const PACKED_MULTIPLIERS = [1, 5, 10, 100] as const;

function pushCurrent(out: DecodeResult, phase: 1 | 2 | 3, raw: number, multiplier: number): void {
  // mA × multiplier → A; the product is an integer number of mA, so one division keeps the value exact to 1 mA.
  out.readings.push({ quantity: 'electricity.current', value: (raw * multiplier) / 1000, channel: String(phase) });
}

const spec: NetvoxDeviceSpec = {
  model: 'R718N3',
  deviceType: 0x4a,
  report(reportType, r, out) {
    if (reportType < 0x01 || reportType > 0x04) unknownReportType('R718N3', reportType);
    addBattery(out, r.u8('Battery'));
    if (reportType === 0x01 || reportType === 0x03) {
      const c1 = r.u16be('Current1');
      const c2 = r.u16be('Current2');
      const c3 = r.u16be('Current3');
      out.data.Current1 = c1;
      out.data.Current2 = c2;
      out.data.Current3 = c3;
      if (reportType === 0x01) {
        const m1 = r.u8('Multiplier1');
        out.data.Multiplier1 = m1;
        pushCurrent(out, 1, c1, m1);
        out.warnings.push('R718N3: ReportType 0x01 carries no Multiplier2/Multiplier3 (sent in ReportType 0x02); Current2 and Current3 are kept raw in data only');
      } else {
        const packed = r.u8('Multiplier');
        const m = [packed & 0x03, (packed >> 2) & 0x03, (packed >> 4) & 0x03].map((code) => PACKED_MULTIPLIERS[code]!);
        out.data.Multiplier1 = m[0];
        out.data.Multiplier2 = m[1];
        out.data.Multiplier3 = m[2];
        pushCurrent(out, 1, c1, m[0]!);
        pushCurrent(out, 2, c2, m[1]!);
        pushCurrent(out, 3, c3, m[2]!);
      }
      return;
    }
    if (reportType === 0x02) {
      out.data.Multiplier2 = r.u8('Multiplier2');
      out.data.Multiplier3 = r.u8('Multiplier3');
      return;
    }
    const alarm = r.u8('ThresholdAlarm');
    const names = ['LowCurrent1Alarm', 'HighCurrent1Alarm', 'LowCurrent2Alarm', 'HighCurrent2Alarm', 'LowCurrent3Alarm', 'HighCurrent3Alarm'];
    names.forEach((name, bit) => {
      const on = (alarm >> bit) & 1;
      out.data[name] = on;
      if (on) out.events.push({ type: 'alarm', message: name });
    });
  },
  readConfig(r, out) {
    out.data.CurrentChange = r.u16be('CurrentChange');
  },
};

export const r718n3: DeviceDefinition = {
  vendor: 'Netvox',
  model: 'R718N3',
  description: 'Wireless 3-phase current meter (three clamp CTs, channels "1".."3")',
  category: 'energy-meter',
  fPorts: [6, 7],
  exposes: ['electricity.current', 'battery'],
  documentation: [
    { title: 'Netvox R718N3 User Manual, §5.1 Example of ReportDataCmd', url: 'http://www.netvox.com.tw/um/R718N3/R718N3Usermanual.pdf' },
    {
      title: 'Netvox R718N3 codec examples (TTN Device Repository)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/netvox/r718n3-codec.yaml',
    },
  ],
  decode: (input) => decodeNetvox(spec, input),
};
