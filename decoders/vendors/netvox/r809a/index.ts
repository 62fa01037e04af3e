/**
 * Netvox R809A — wireless plug-and-play power outlet with consumption monitoring (relay + meter), DeviceType 0x0E.
 *
 * Follows the R809A user manual §5 "Data Report" and the Netvox LoRaWAN Application Command format (../frame.ts):
 * - ReportType 0x01: OnOff (1, 0x00 OFF / 0x01 ON) | Energy (4, 1 Wh) | OverCurrentAlarm (1) | DashCurrentAlarm (1) |
 *   PowerOffAlarm (1), alarms 0 = no alarm / 1 = alarm.
 * - ReportType 0x02: Vol (2, 1 V) | Current (2, 1 mA) | Power (2, 1 W) | reserved (2).
 * - ReadConfigReportRsp: MinTime | MaxTime | CurrentChange (2, 1 mA) | PowerChange (2, 1 W) | reserved.
 * The device is mains powered: no battery byte. The switch state has no canonical quantity and stays in `data`.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeNetvox, unknownReportType, type NetvoxDeviceSpec } from '../frame.ts';

const alarm = (raw: number) => (raw !== 0 ? 'Alarm' : 'No alarm');

const spec: NetvoxDeviceSpec = {
  model: 'R809A',
  deviceType: 0x0e,
  report(reportType, r, out) {
    if (reportType === 0x01) {
      const onOff = r.u8('OnOff');
      const energy = r.u32be('Energy');
      const over = r.u8('OverCurrentAlarm');
      const dash = r.u8('DashCurrentAlarm');
      const powerOff = r.u8('PowerOffAlarm');
      if (onOff > 1) out.warnings.push(`R809A: OnOff value ${onOff} is not 0x00 or 0x01; read as ON`);
      out.data.OnOff = onOff !== 0 ? 'ON' : 'OFF';
      out.data.Energy = energy;
      out.data.OverCurrentAlarm = alarm(over);
      out.data.DashCurrentAlarm = alarm(dash);
      out.data.PowerOffAlarm = alarm(powerOff);
      out.readings.push({ quantity: 'metering.electricity.activeEnergy', value: energy });
      if (over) out.events.push({ type: 'alarm', message: 'over-current alarm (load disconnected)' });
      if (dash) out.events.push({ type: 'alarm', message: 'dash (surge) current alarm' });
      if (powerOff) out.events.push({ type: 'alarm', message: 'power-off alarm' });
      return;
    }
    if (reportType === 0x02) {
      const vol = r.u16be('Vol');
      const current = r.u16be('Current');
      const power = r.u16be('Power');
      out.data.Vol = vol;
      out.data.Current = current;
      out.data.Power = power;
      out.readings.push(
        { quantity: 'electricity.voltage', value: vol },
        { quantity: 'electricity.current', value: current / 1000 },
        { quantity: 'electricity.activePower', value: power },
      );
      return;
    }
    unknownReportType('R809A', reportType);
  },
  readConfig(r, out) {
    out.data.CurrentChange = r.u16be('CurrentChange');
    out.data.PowerChange = r.u16be('PowerChange');
  },
};

export const r809a: DeviceDefinition = {
  vendor: 'Netvox',
  model: 'R809A',
  description: 'Plug-in power outlet with relay and consumption monitoring (on/off, voltage, current, power, energy)',
  category: 'energy-meter',
  fPorts: [6, 7],
  exposes: ['metering.electricity.activeEnergy', 'electricity.voltage', 'electricity.current', 'electricity.activePower'],
  documentation: [
    { title: 'Netvox R809A User Manual, §5 Data Report', url: 'http://www.netvox.com.tw/um/R809A/R809AUsermanual.pdf' },
    {
      title: 'Netvox R809A codec examples (TTN Device Repository)',
      url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/netvox/r809a-codec.yaml',
    },
  ],
  decode: (input) => decodeNetvox(spec, input),
};
