/**
 * Milesight CT303, three-channel LoRaWAN smart current transformer (CT30x family).
 * Follows Milesight "CT3xx Uplink Data": totals 03/05/07 97 (UINT32/100 Ah), currents 04/06/08 99 (UINT16/10 A),
 * temperature 09 67, current alarms 84/86/88 99, temperature alarm 89 67; shared layouts in ../ct.ts.
 * The document calls the three inputs "Phase A/B/C"; Milesight's field names say chn1..chn3. Readings use channel "1".."3".
 * The alarm status byte is read as the CT10x bit field (01/02/04/08): Milesight's own CT303 example 8499b80bd007c40905
 * decodes 05 as "threshold alarm + over-range alarm".
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ctTemperatureEntries, currentAlarmEntry, currentEntry, totalCurrentEntry, type CtChannel } from '../ct.ts';
import { decodeTlv, deviceInfoEntries, MILESIGHT_FPORT, tlvTable, type TlvEntry } from '../tlv.ts';

const MODEL = 'CT303';

const perChannel: TlvEntry[] = [1, 2, 3].flatMap((n) => {
  const ch: CtChannel = { channel: String(n), prefix: `current_chn${n}`, totalField: `current_chn${n}_total` };
  const base = 2 * n; // chn1: 03/04/84, chn2: 05/06/86, chn3: 07/08/88
  return [
    totalCurrentEntry(base + 1, ch),
    currentEntry(base + 2, 0x99, 10, ch),
    currentAlarmEntry(0x80 + base + 2, 0x99, 10, ch),
  ];
});

const table = tlvTable([...deviceInfoEntries(), ...perChannel, ...ctTemperatureEntries()]);

export const ct303: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Three-channel smart current transformer (current and cumulative ampere-hours per channel, temperature)',
  category: 'energy-meter',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['electricity.current'],
  documentation: [
    { title: 'CT3xx Uplink Data (Milesight documentation center)', url: 'https://www.milesight.com/products/docs/en/ct3xx/protocol/ct/ct3xx-uplink.html' },
    { title: 'CT30x product page', url: 'https://www.milesight.com/iot/product/lorawan-sensor/ct3xx' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
