/**
 * Milesight EM300-MLD, membrane leak detection sensor (flexible printed membrane laid on the floor).
 *
 * Follows Milesight's EM300-MLD payload table and examples (github.com/Milesight-IoT/SensorDecoders,
 * EM_Series/EM300_Series/EM300-MLD/README.md; tables and examples only): 01 75 battery %, leakage status type 0x00
 * (0 normal, 1 leak), 20 ce history: timestamp UINT32 s + temperature (2 bytes) + humidity (1 byte) + leakage status.
 * The table gives the leakage status on channel 0x06 while both the README's and The Things Network's examples send
 * it on channel 0x05: both are accepted. The model has no temperature or humidity sensor (the examples' history
 * carries zeros there and Milesight's output omits them), so those two history fields give no reading.
 * Frame parser: ../tlv.ts.
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { leak, leakStatusEntry } from '../leak-status.ts';
import { batteryEntry, decodeTlv, deviceInfoEntries, MILESIGHT_FPORT, readTimestamp, tlvTable } from '../tlv.ts';

const MODEL = 'EM300-MLD';

const table = tlvTable([
  ...deviceInfoEntries(),
  batteryEntry(),
  leakStatusEntry(0x05),
  leakStatusEntry(0x06),
  {
    channel: 0x20, type: 0xce, size: 8, name: 'historical data',
    decode: (r, ctx) => {
      const time = readTimestamp(r);
      r.skip(3, 'history temperature and humidity (no sensor on this model)');
      const leakage_status = leak(ctx, r.u8('history leakage status'), time);
      ctx.history({ timestamp: time.getTime() / 1000, leakage_status });
    },
  },
]);

export const em300Mld: DeviceDefinition = {
  vendor: 'Milesight',
  model: MODEL,
  description: 'Membrane water leak detection sensor',
  category: 'water-leak',
  fPorts: [MILESIGHT_FPORT],
  exposes: ['water.leak', 'batteryLevel'],
  documentation: [
    { title: 'EM300-MLD payload definition and examples (Milesight SensorDecoders, EM_Series/EM300_Series/EM300-MLD/README.md)', url: 'https://github.com/Milesight-IoT/SensorDecoders/tree/main/EM_Series/EM300_Series/EM300-MLD' },
    { title: 'Milesight EM300-MLD in The Things Network device repository (codec examples)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/em300-mld-codec.yaml' },
  ],
  decode: (input) => decodeTlv(MODEL, table, input),
};
