/**
 * Milesight WS523, portable smart socket (plug) with metering.
 *
 * Follows Milesight "WS52x Uplink Data" (https://www.milesight.com/products/docs/en/ws52x/protocol/ws5xx/ws52x-uplink.html):
 *   basic information ff 0b/01/16/09/0a plus ff 24 overcurrent alarm (enable + threshold A), ff 25 button lock
 *   (0000 disabled, 0080 enabled), ff 26 power consumption (00/01), ff 30 overcurrent protection (enable + threshold A);
 *   periodic report 03 74 voltage UINT16/10 V, 04 80 active power UINT32 W, 05 81 power factor UINT8 %,
 *   06 83 power consumption UINT32 Wh, 07 c9 current UINT16 mA, 08 70 socket status (00 close/off, 01 open/on).
 * Frame parser: ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { decodeTlv, deviceInfoEntries, MILESIGHT_FPORT, scaled, tlvTable, type TlvEntry } from '../tlv.ts';

const MODEL = 'WS523';

const enableThreshold = (type: number, name: string, field: string): TlvEntry => ({
  channel: 0xff, type, size: 2, name,
  decode: (r, ctx) => {
    const enable = r.u8(`${name} enable`);
    const threshold = r.u8(`${name} threshold`);
    ctx.set(field, { enable: enable === 1 ? 'enable' : 'disable', threshold });
  },
});

const table = tlvTable([
  ...deviceInfoEntries(),
  enableThreshold(0x24, 'overcurrent alarm', 'overcurrent_alarm_config'),
  enableThreshold(0x30, 'overcurrent protection', 'overcurrent_protection'),
  {
    channel: 0xff, type: 0x25, size: 2, name: 'button lock',
    decode: (r, ctx) => ctx.set('button_lock', (r.u16le('button lock') & 0x8000) !== 0 ? 'enable' : 'disable'),
  },
  {
    channel: 0xff, type: 0x26, size: 1, name: 'power consumption enable',
    decode: (r, ctx) => ctx.set('power_consumption_enable', r.u8('power consumption enable') === 1 ? 'enable' : 'disable'),
  },
  {
    channel: 0x03, type: 0x74, size: 2, name: 'voltage',
    decode: (r, ctx) => {
      const v = scaled(r.u16le('voltage'), 10);
      ctx.set('voltage', v);
      ctx.reading('electricity.voltage', v);
    },
  },
  {
    channel: 0x04, type: 0x80, size: 4, name: 'active power',
    decode: (r, ctx) => {
      const w = r.u32le('active power');
      ctx.set('active_power', w);
      ctx.reading('electricity.activePower', w);
    },
  },
  {
    channel: 0x05, type: 0x81, size: 1, name: 'power factor',
    decode: (r, ctx) => {
      const pf = r.u8('power factor');
      ctx.set('power_factor', pf);
      if (pf <= 100) ctx.reading('electricity.powerFactor', pf / 100);
      else ctx.warn(`power factor ${pf} % is above 100; not stored`);
    },
  },
  {
    channel: 0x06, type: 0x83, size: 4, name: 'power consumption',
    decode: (r, ctx) => {
      const wh = r.u32le('power consumption');
      ctx.set('power_consumption', wh);
      ctx.reading('metering.electricity.activeEnergy', wh);
    },
  },
  {
    channel: 0x07, type: 0xc9, size: 2, name: 'current',
    decode: (r, ctx) => {
      const ma = r.u16le('current');
      ctx.set('current', ma);
      ctx.reading('electricity.current', ma / 1000);
    },
  },
  {
    channel: 0x08, type: 0x70, size: 1, name: 'socket status',
    decode: (r, ctx) => {
      const s = r.u8('socket status');
      ctx.set('socket_status', s === 1 ? 'on' : s === 0 ? 'off' : `unknown (${s})`);
    },
  },
]);

export const ws523: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Portable smart socket with metering (voltage, current, active power, power factor, energy)',
  category: 'energy-meter',
  fPorts: [MILESIGHT_FPORT],
  exposes: [
    'electricity.voltage',
    'electricity.current',
    'electricity.activePower',
    'electricity.powerFactor',
    'metering.electricity.activeEnergy',
  ],
  documentation: [
    { title: 'WS52x Uplink Data (Milesight documentation center)', url: 'https://www.milesight.com/products/docs/en/ws52x/protocol/ws5xx/ws52x-uplink.html' },
    { title: 'WS52x User Guide', url: 'https://resource.milesight.com/milesight/iot/document/ws52x-user-guide-en.pdf' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
