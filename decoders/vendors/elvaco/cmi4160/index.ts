/**
 * Elvaco CMi4160, M-Bus to LoRaWAN module for Diehl SHARKY 775 heat meters.
 * Follows the CMi4160 User's Manual v1.3 (2020-10), §6.7 "Message formats" (Table 4 and the payload tables of each
 * format): uplinks on fPort 2, byte 0 the message format identifier (0x1E..0x23), then M-Bus records, the meter
 * address as an enhanced identification record 0779 (decoder in ../module.ts).
 */
import type { DeviceDefinition } from '../../../core/types.ts';
import { ELVACO_FPORT, elvacoModuleDecoder, manualDocument } from '../module.ts';

export const cmi4160: DeviceDefinition = {
  vendor: 'Elvaco',
  model: 'CMi4160',
  description: 'M-Bus to LoRaWAN module for Diehl SHARKY 775 heat meters (energy, volume, power, flow, temperatures)',
  category: 'heat-meter',
  fPorts: [ELVACO_FPORT],
  exposes: ['metering.heat.total', 'metering.heat.volume', 'heat.power', 'heat.flow', 'heat.flowTemperature', 'heat.returnTemperature'],
  documentation: [
    manualDocument('CMi4160', 'https://manualshive.com/en/manual/elvaco/cmi-series/cmi-series_user-manual_2397663-14.html', 'v1.3 (2020-10)'),
    { title: 'Elvaco CMi4160 in The Things Network device repository (codec example)', url: 'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/elvaco/cmi4160-codec.yaml' },
  ],
  decode: elvacoModuleDecoder('CMi4160', {
    formats: { 0x1e: 'Standard', 0x1f: 'Compact', 0x20: 'JSON', 0x21: 'Scheduled - daily redundant', 0x22: 'Scheduled - extended', 0x23: 'Combined heat/cooling' },
    json: 0x20,
  }),
};
