/**
 * Milesight WS303, mini leak detection sensor (spot probe under a tank, a boiler or a server-room air conditioner).
 *
 * Follows Milesight's WS303 payload table and examples (github.com/Milesight-IoT/SensorDecoders,
 * WS_Series/WS303/README.md; table and examples only): 01 75 battery %, 03 00 leakage status (0 normal, 1 leak).
 * Frame parser: ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { leakStatusEntry } from '../leak-status.ts';
import { batteryEntry, decodeTlv, deviceInfoEntries, MILESIGHT_FPORT, tlvTable } from '../tlv.ts';

const MODEL = 'WS303';

const table = tlvTable([...deviceInfoEntries(), batteryEntry(), leakStatusEntry(0x03)]);

export const ws303: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Mini water leak detection sensor',
  category: 'water-leak',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['water.leak', 'batteryLevel'],
  documentation: [
    { title: 'WS303 payload definition and examples (Milesight SensorDecoders, WS_Series/WS303/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/WS_Series/WS303' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
