/**
 * Netvox water leak detectors (one or two probes). Follows the R718WA / R718WA2 / R311W user manuals, §5.1
 * "Example of ReportDataCmd": ReportType 0x01 = Battery (1 byte, 0.1 V) | WaterLeak (1 byte, 0 noLeak / 1 Leak)
 * [| WaterLeak2 for two-probe devices] | reserved. ReadConfigReportRsp carries BatteryChange (1 byte, 0.1 V).
 */
import type { DeviceDefinition } from '../../core/types.ts';
import { addBattery, decodeNetvox, readBatteryChange, unknownReportType, type NetvoxDeviceSpec } from './frame.ts';

export function leakSpec(model: string, deviceType: number, probes: 1 | 2): NetvoxDeviceSpec {
  return {
    model,
    deviceType,
    report(reportType, r, out) {
      if (reportType !== 0x01) unknownReportType(model, reportType);
      addBattery(out, r.u8('Battery'));
      const leaks = probes === 1 ? [r.u8('WaterLeak')] : [r.u8('WaterLeak1'), r.u8('WaterLeak2')];
      leaks.forEach((raw, i) => {
        const key = probes === 1 ? 'WaterLeak' : `WaterLeak_${i + 1}`;
        if (raw > 1) out.warnings.push(`${model}: ${key} value ${raw} is not 0 or 1; read as Leak`);
        const leak = raw !== 0;
        out.data[key] = leak ? 'Leak' : 'NoLeak';
        out.readings.push(probes === 1 ? { quantity: 'water.leak', value: leak } : { quantity: 'water.leak', value: leak, channel: String(i + 1) });
        if (leak) out.events.push({ type: 'leak', message: probes === 1 ? 'water leak detected' : `water leak detected on probe ${i + 1}` });
      });
    },
    readConfig: readBatteryChange,
  };
}

export function leakDefinition(
  spec: NetvoxDeviceSpec,
  meta: Pick<DeviceDefinition, 'description' | 'documentation'>,
): DeviceDefinition {
  return {
    vendor: 'Netvox',
    model: spec.model,
    description: meta.description,
    category: 'water-leak',
    fPorts: [6, 7],
    exposes: ['water.leak', 'battery'],
    documentation: meta.documentation,
    decode: (input) => decodeNetvox(spec, input),
  };
}
