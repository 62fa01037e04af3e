/**
 * Milesight CT101, single-channel LoRaWAN smart current transformer (CT10x family).
 * Follows Milesight "CT10x Uplink Data" (periodic report 03 97 / 04 98 / 09 67, alarm report 84 98 / 89 67);
 * shared layouts in ../ct.ts, frame parser in ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ctTemperatureEntries, currentAlarmEntry, currentEntry, totalCurrentEntry, type CtChannel } from '../ct.ts';
import { decodeTlv, deviceInfoEntries, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'CT101';
const ch: CtChannel = { channel: undefined, prefix: 'current', totalField: 'total_current' };

const table = tlvTable([
  ...deviceInfoEntries(),
  totalCurrentEntry(0x03, ch),
  currentEntry(0x04, 0x98, 100, ch),
  currentAlarmEntry(0x84, 0x98, 100, ch),
  ...ctTemperatureEntries(),
]);

export const ct101: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Single-channel smart current transformer (current, cumulative ampere-hours, temperature)',
  category: 'energy-meter',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['electricity.current'],
  documentation: [
    { title: 'CT10x Uplink Data (Milesight documentation center)', url: 'https://www.milesight.com/products/docs/en/ct10x/protocol/ct/ct10x-uplink.html' },
    { title: 'CT10x User Guide', url: 'https://resource.milesight.com/milesight/iot/document/ct10x-user-guide-en.pdf' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
